"""One module per paper, each defining `PRESET`. Discovered by groklab.presets.discover()."""
