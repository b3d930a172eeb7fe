"""Status reports across runs: Markdown and self-contained HTML from the same data."""

from groklab.report.render import (
    PaperSection,
    ReportData,
    RunEntry,
    SweepEntry,
    format_fact,
    render_html,
    render_markdown,
)

__all__ = ["PaperSection", "ReportData", "RunEntry", "SweepEntry", "format_fact", "render_html", "render_markdown"]
