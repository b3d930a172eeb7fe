"""Status reports across runs: Markdown and self-contained HTML from the same data (render), built from run
folders (groklab.report.build), and results in a terminal (terminal)."""
