"""A report as one document of blocks, written as Markdown or as one self-contained HTML page."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Items:
    """A bulleted list; an item given as (label, text) shows its label in bold."""

    items: Sequence[str | tuple[str, str]]


@dataclass(frozen=True)
class Table:
    """`classes`, parallel to `rows`, are the cells' CSS classes in HTML (by default each cell's text)."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    classes: Sequence[Sequence[str]] | None = None
    table_id: str = ""


@dataclass(frozen=True)
class Figure:
    path: Path
    alt: str


Block = Heading | Paragraph | Items | Table | Figure

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;font-size:.9em}
th{background:#f3f3f3}img{max-width:100%}.grokked,.agrees{color:#1a7f37}
.memorizing,.not_learning,.diverged,.differs{color:#b42318}"""


def _markdown_item(item: str | tuple[str, str]) -> str:
    return f"- {item}" if isinstance(item, str) else f"- **{item[0]}**: {item[1]}"


def _markdown_block(block: Block, figure_link: Callable[[Path], str]) -> str:
    match block:
        case Heading(level, text):
            return f"{'#' * level} {text}"
        case Paragraph(text):
            return text
        case Items(items):
            return "\n".join(map(_markdown_item, items))
        case Table(header, rows):
            lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
        case Figure(path, alt):
            return f"![{alt}]({figure_link(path)})"
    raise TypeError(f"not a report block: {block!r}")


def to_markdown(blocks: list[Block], figure_link: Callable[[Path], str]) -> str:
    """The document as Markdown; `figure_link` maps a figure's path to the link written in the page."""
    return "\n\n".join(_markdown_block(block, figure_link) for block in blocks) + "\n"


def _html_item(item: str | tuple[str, str]) -> str:
    text = html.escape(item) if isinstance(item, str) else f"<b>{html.escape(item[0])}</b>: {html.escape(item[1])}"
    return f"<li>{text}</li>"


def _html_table(table: Table) -> str:
    classes = table.classes or table.rows
    body = "".join("<tr>" + "".join(f"<td class='{html.escape(c)}'>{html.escape(text)}</td>"
                                    for text, c in zip(row, row_classes, strict=True)) + "</tr>"
                   for row, row_classes in zip(table.rows, classes, strict=True))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.header)
    table_attr = f" id='{table.table_id}'" if table.table_id else ""
    return f"<table{table_attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_block(block: Block) -> str:
    match block:
        case Heading(level, text):
            return f"<h{level}>{html.escape(text)}</h{level}>"
        case Paragraph(text):
            return f"<p>{html.escape(text)}</p>"
        case Items(items):
            return f"<ul>{''.join(map(_html_item, items))}</ul>"
        case Table():
            return _html_table(block)
        case Figure(path, alt):
            data = base64.b64encode(path.read_bytes()).decode()
            return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'>"
    raise TypeError(f"not a report block: {block!r}")


def to_html(blocks: list[Block], title: str) -> str:
    """The document as one self-contained HTML page (figures embedded as data URIs)."""
    body = "".join(map(_html_block, blocks))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>")
