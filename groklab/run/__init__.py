"""One run: its folder (files, creation, reuse), its execution and its analysis and figures."""
