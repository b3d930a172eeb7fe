"""history.jsonl as columns: the numbers found in the writer's own text by numpy, turned into floats on demand.

A history of 10^6 records is about 350 MB of text holding 1.3e7 numbers. json.loads makes a dict per record and a
Python object per value (about 10 µs a record on a 2-core EPYC), which alone takes longer than an analysis may.
Here a block of lines is cut into its values by vectorized byte operations when every line in it has exactly the
form in which `json.dumps(record)` writes a record of numbers and nulls: one object per line, keys without
escapes, `": "` after a key, `", "` between fields, each value a JSON number (checked against the JSON grammar
byte by byte) or null. The values of each series are kept as that series' own text and converted to floats when
the series is first asked for (np.fromstring: the same correctly rounded conversion as float()), so a series that
no one reads is never converted, and the columnar export copies the numbers as they were written. A block in which
any line has another form (cut short, a string, a list, NaN, other spacing, a blank line) is read line by line by
the reader's own rules instead (`slow_lines`), so what is read, skipped and reported is the same either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

QUOTE, COLON, SPACE, COMMA, OPEN, CLOSE, NEWLINE = (ord(c) for c in '": ,{}\n')
DOT, MINUS, PLUS, ZERO = (ord(c) for c in ".-+0")
_DIGIT = np.zeros(256, bool)
_DIGIT[ord("0"):ord("9") + 1] = True
_EXPONENT = np.zeros(256, bool)
_EXPONENT[[ord("e"), ord("E")]] = True
NULL = b"null"
MAX_TOKEN = 23  # longest number taken here: a float's repr with a two-digit exponent ("-1.2345678901234567e-99")
CELL = MAX_TOKEN + 1  # each value in a cell this wide: a zero always follows it
_KEEP = np.array([[255] * k + [0] * (CELL - k) for k in range(CELL + 1)], np.uint8).view(f"V{CELL}").ravel()
MAX_STEP_DIGITS = 15  # steps below 10^15 are exact as float64 too
BLOCK_BYTES = 8 << 20


@dataclass
class Part:
    """One block's values of one series: at rows `start .. start + count - 1` (rows None) or at `rows`, as the
    numbers' text (an array of bytes strings, b"null" for a null) or as floats (NaN for null)."""

    start: int
    count: int
    rows: np.ndarray | None = None
    tokens: np.ndarray | None = None
    values: np.ndarray | None = None

    def floats(self) -> np.ndarray:
        if self.values is None:
            tokens = self.tokens
            if tokens.itemsize >= 4 and (nulls := tokens == NULL).any():
                tokens = np.where(nulls, b"nan", tokens)
            self.values = tokens.astype(np.float64)  # the correctly rounded conversion of float()
        return self.values

    def row_numbers(self) -> np.ndarray:
        return np.arange(self.start, self.start + self.count) if self.rows is None else self.rows


class Series:
    """One series of a history: its parts in row order, whether every value was written as an integer, and its
    floats once asked for."""

    def __init__(self, whole: bool = True) -> None:
        self.parts: list[Part] = []
        self.whole = whole
        self._values: np.ndarray | None = None

    @classmethod
    def of(cls, values: np.ndarray, present: np.ndarray | None, whole: bool) -> Series:
        """A series from full-length floats (NaN: missing or null) and where it is present (None: every row)."""
        series = cls(whole)
        rows = None if present is None else np.flatnonzero(present)
        kept = values if rows is None else values[rows]
        series.parts.append(Part(0, len(kept), rows=rows, values=np.ascontiguousarray(kept, dtype=np.float64)))
        series._values = values.astype(np.float64, copy=True)
        return series

    def values(self, n: int) -> np.ndarray:
        """Floats at every one of the history's `n` rows; NaN where the series is missing or null (cached)."""
        if self._values is None:
            out = np.full(n, np.nan)
            for part in self.parts:
                if part.rows is None:
                    out[part.start:part.start + part.count] = part.floats()
                else:
                    out[part.rows] = part.floats()
            self._values = out
        return self._values

    def present(self, n: int) -> np.ndarray | None:
        """Where the series has a value or a null; None when at every row."""
        if sum(part.count for part in self.parts) == n:
            return None
        mask = np.zeros(n, bool)
        for part in self.parts:
            if part.rows is None:
                mask[part.start:part.start + part.count] = True
            else:
                mask[part.rows] = True
        return mask

    def all_null(self) -> bool:
        """Whether no row holds a number."""
        if self._values is not None:
            return bool(np.isnan(self._values).all())
        return all(bool(np.isnan(p.values).all()) if p.tokens is None else bool((p.tokens == NULL).all())
                   for p in self.parts)

    def at(self, row: int) -> tuple[bool, Any]:
        """(present, value) at `row`: the value as JSON reads it (int, float, or None for null)."""
        for part in self.parts:
            if part.rows is None:
                index = row - part.start
                if not 0 <= index < part.count:
                    continue
            else:
                index = int(np.searchsorted(part.rows, row))
                if index == part.count or part.rows[index] != row:
                    continue
            if part.tokens is not None:
                token = bytes(part.tokens[index])
                return True, None if token == NULL else int(token) if self.whole else float(token)
            value = float(part.values[index])
            return True, None if np.isnan(value) else int(value) if self.whole else value
        return False, None

    def take(self, rows: np.ndarray, n: int) -> Series:
        """This series at `rows` only (converting only those rows' text where none was converted yet)."""
        present = self.present(n)
        if self._values is not None or any(part.tokens is None for part in self.parts):
            values = self.values(n)[rows]
        else:
            values = np.full(len(rows), np.nan)
            for part in self.parts:
                where = part.row_numbers()
                found = np.minimum(np.searchsorted(where, rows), part.count - 1)
                hit = where[found] == rows
                values[hit] = Part(0, int(hit.sum()), tokens=part.tokens[found[hit]]).floats()
        return Series.of(values, None if present is None else present[rows], self.whole)

    def json_list(self, n: int) -> bytes:
        """The series as a JSON list of `n` entries (null where missing): numbers as they were written."""
        if any(part.tokens is None for part in self.parts):
            values = self.values(n)
            if not self.whole:
                return str(values.tolist()).replace("nan", "null").encode()  # float repr: what json.dumps writes
            return ("[" + ", ".join("null" if v != v else str(int(v)) for v in values.tolist()) + "]").encode()
        width = max(part.tokens.itemsize for part in self.parts)
        if len(self.parts) == 1 and self.parts[0].count == n:
            tokens = self.parts[0].tokens.astype(f"S{width}")
        else:
            tokens = np.full(n, NULL, dtype=f"S{max(width, 4)}")
            for part in self.parts:
                tokens[part.row_numbers()] = part.tokens
        return b"[" + joined(tokens, b", ") + b"]"


def joined(tokens: np.ndarray, separator: bytes) -> bytes:
    """b"".join of the bytes strings `tokens` with `separator` between them, without a Python object each."""
    width, extra = tokens.itemsize, len(separator)
    cells = np.zeros((len(tokens), width + extra), np.uint8)
    cells[:, :width] = tokens.view(np.uint8).reshape(len(tokens), width)
    cells[:, width:] = np.frombuffer(separator, np.uint8)
    flat = cells.ravel()
    return flat[flat != 0].tobytes()[:-extra] if len(tokens) else b""


@dataclass
class Block:
    """The series of one block of lines as the fast reader found them."""

    lines: int
    steps: np.ndarray
    keys: list[str]  # every field, "step" among them, in the order the block's lines first have each
    series: dict[str, tuple[np.ndarray | None, np.ndarray, bool]]  # name: (rows in the block or None, tokens, whole)


def _spans(n: int, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """A mask of n bytes, True in every [starts[i], stops[i]) (sorted, not overlapping)."""
    sizes = np.empty(2 * len(starts) + 1, np.int64)
    sizes[0], sizes[1::2], sizes[2:-1:2], sizes[-1] = starts[0], stops - starts, starts[1:] - stops[:-1], n - stops[-1]
    pattern = np.zeros(len(sizes), bool)
    pattern[1::2] = True
    return np.repeat(pattern, sizes)


def fast_block(text: bytes, newest_version: int) -> Block | None:
    """The records of `text` (whole lines, each ending in a newline but perhaps the last) as series, or None when
    any line is not a record of numbers and nulls in the writer's own form, or has a schema_version above
    `newest_version`, a step that is not a whole number below 10^15, or a number too long to be taken on trust
    (the line-by-line reader then reads the block, by its own rules)."""
    if not text or b"\\" in text or b"[" in text or b"\0" in text:
        return None
    a = np.frombuffer(text, np.uint8)
    n = len(a)
    quotes = np.flatnonzero(a == QUOTE)
    if a[0] != OPEN or len(quotes) < 2 or len(quotes) % 2 or quotes[0] != 1 or quotes[-1] + 4 > n:
        return None
    opens, closes = quotes[0::2], quotes[1::2]
    before = a[opens - 1]
    starts_line = before == OPEN
    if not (np.all(a[closes + 1] == COLON) and np.all(a[closes + 2] == SPACE)
            and np.all(starts_line | ((before == SPACE) & (a[opens - 2] == COMMA)))):
        return None
    begins = closes + 3  # each value's first byte
    ends = np.empty_like(begins)  # the byte after each value: ',' or '}'
    ends[:-1] = opens[1:] - np.where(starts_line[1:], 3, 2)
    ends[-1] = n - 2 if a[-1] == NEWLINE else n - 1
    line_ends = np.append(starts_line[1:], True)
    if not (np.all(a[ends[line_ends]] == CLOSE) and np.all(ends > begins)
            and np.all(a[ends[line_ends][:-1] + 1] == NEWLINE)):
        return None
    lengths = ends - begins
    if lengths.max() > MAX_TOKEN:
        return None

    # one kind of line per distinct sequence of keys: the lines' keys, each line's on a line of its own
    keys_text = a[_spans(n, opens, closes + 2)]  # '"key":' of every field
    keys_text[(np.cumsum(closes + 2 - opens) - 1)[line_ends]] = NEWLINE
    templates = keys_text.tobytes().split(b"\n")
    lines = len(templates) - 1
    if lines != int(starts_line.sum()):
        return None  # a newline inside a key
    del templates[-1]
    kinds = {template: kind for kind, template in enumerate(dict.fromkeys(templates))}
    kind_of_line = np.fromiter(map(kinds.__getitem__, templates), np.int64, lines)
    names: dict[str, int] = {}
    places: list[list[tuple[int, int]]] = []  # per series: (kind, its position in that kind's lines)
    for kind, template in enumerate(kinds):
        try:
            keys = [k.decode("utf-8") for k in template.split(b'"')[1::2]]
        except UnicodeDecodeError:
            return None
        if len(set(keys)) < len(keys) or "step" not in keys or any(ord(ch) < 32 for k in keys for ch in k):
            return None
        for position, key in enumerate(keys):
            if names.setdefault(key, len(names)) == len(places):
                places.append([])
            places[names[key]].append((kind, position))
    first_field = np.flatnonzero(starts_line)
    lines_of_kind = [np.flatnonzero(kind_of_line == kind) for kind in range(len(kinds))] if len(kinds) > 1 \
        else [np.arange(lines)]
    # every value in a cell of MAX_TOKEN bytes, zeros after it (a cell per field, as one bytes string each)
    padded = np.concatenate([a, np.zeros(CELL, np.uint8)])
    starting_at = np.ndarray((n,), f"S{CELL}", padded, strides=(1,))  # the CELL bytes from each byte on
    cells = starting_at[begins]
    grid = cells.view(np.uint8).reshape(len(begins), CELL)
    grid &= np.take(_KEEP, lengths).view(np.uint8).reshape(grid.shape)  # zeros after each value
    integer = _numbers_or_nulls(grid, lengths)
    if integer is None:
        return None
    series: dict[str, tuple[np.ndarray | None, np.ndarray, bool]] = {}
    for name, where in zip(names, places, strict=True):
        if len(where) == 1:
            rows = lines_of_kind[where[0][0]]
            fields = first_field[rows] + where[0][1]
        else:
            field_at = np.full(lines, -1)
            for kind, position in where:
                field_at[lines_of_kind[kind]] = first_field[lines_of_kind[kind]] + position
            rows = np.flatnonzero(field_at >= 0)
            fields = field_at[rows]
        tokens = np.take(cells, fields).astype(f"S{int(lengths[fields].max())}")
        series[name] = (None if len(rows) == lines else rows, tokens, bool(integer[fields].all()))
    _, step_tokens, step_whole = series.pop("step")
    if len(step_tokens) != lines or not step_whole or step_tokens.itemsize > MAX_STEP_DIGITS \
            or (step_tokens == NULL).any() or b"-" in step_tokens.tobytes():
        return None
    version = series.get("schema_version")
    if version is not None and (not version[2] or version[1].itemsize > 9 or (version[1] == NULL).any()
                                or version[1].astype(np.int64).max() > newest_version):
        return None
    return Block(lines, step_tokens.astype(np.int64), list(names), series)


def _numbers_or_nulls(cells: np.ndarray, size: np.ndarray) -> np.ndarray | None:
    """Per value (a row of `cells`, `size` bytes long, zeros after it): whether it is an integer (a null counts as
    one); None unless every value is null or a JSON number -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? with at
    most two exponent digits. The dense work is a few passes over the bytes; the rules are checked on the few
    bytes that are not digits."""
    integer = np.ones(len(cells), bool)
    nulls = (size == 4) & (cells[:, 0] == ord("n"))
    if nulls.any():
        if not (cells[nulls, :4] == np.frombuffer(NULL, np.uint8)).all():
            return None
        kept = np.flatnonzero(~nulls)
        cells, size = cells[kept], size[kept]
    else:
        kept = None
    width = cells.shape[1]  # wider than every value: each row ends in a zero, which no rule takes for a digit
    flat = cells.ravel()
    special = np.flatnonzero(((flat - ZERO) >= 10) & (flat != 0))
    char = flat[special]
    previous, following = flat[special - 1], flat[special + 1]
    is_dot = char == DOT
    if not (_DIGIT[previous[is_dot]].all() and _DIGIT[following[is_dot]].all()):
        return None  # a dot without a digit on each side
    others = np.flatnonzero(~is_dot)
    char, previous, following = char[others], previous[others], following[others]
    is_exponent, column = _EXPONENT[char], special[others] % width
    exponent_before, digit_after = _EXPONENT[previous], _DIGIT[following]
    sign_after = (following == MINUS) | (following == PLUS)
    if not ((is_exponent & _DIGIT[previous] & (digit_after | sign_after))
            | ((char == MINUS) & ((column == 0) | exponent_before) & digit_after)
            | ((char == PLUS) & exponent_before & digit_after)).all():
        return None  # a byte no number has, or in a place no number has it
    dot_rows, exponent_rows = special[is_dot] // width, special[others[is_exponent]] // width
    if np.any(np.diff(dot_rows) == 0) or np.any(np.diff(exponent_rows) == 0):
        return None  # two dots or two exponents in one number
    exponent_column = column[is_exponent]
    if len(exponent_rows):
        dot_column = np.full(len(cells), -1)
        dot_column[dot_rows] = special[is_dot] % width
        if np.any(dot_column[exponent_rows] > exponent_column):
            return None  # a dot in the exponent
        if np.any(size[exponent_rows] - exponent_column - 1 - sign_after[is_exponent] > 2):
            return None  # more than two exponent digits: perhaps beyond a float's range
    first, second, third = cells[:, 0], cells[:, 1], cells[:, 2]
    if not _DIGIT[flat[np.arange(0, len(flat), width) + size - 1]].all() or np.any(
            ((first == ZERO) & _DIGIT[second]) | ((first == MINUS) & (second == ZERO) & _DIGIT[third])):
        return None  # ends in no digit, or a leading zero
    fraction = np.zeros(len(cells), bool)
    fraction[dot_rows] = True
    fraction[exponent_rows] = True
    if kept is None:
        return ~fraction
    integer[kept] = ~fraction
    return integer


def blocks(handle: Any) -> Iterator[tuple[bytes, bool]]:
    """(whole lines, whether they are the file's last) over a binary file, about BLOCK_BYTES at a time; blank
    lines at the end of the file join the block before them."""
    carry, pending = b"", None
    while True:
        chunk = handle.read(BLOCK_BYTES)
        data = carry + chunk
        cut = len(data) if not chunk else data.rfind(b"\n") + 1
        if cut == 0 and chunk:  # no line ends in it yet
            carry = data
            continue
        block, carry = data[:cut], data[cut:]
        blank = not block or block.isspace()
        if pending is not None and not blank:
            yield pending, False
            pending = None
        pending = block if pending is None else pending + block
        if not chunk:
            yield pending, True
            return


def slow_lines(text: bytes, first_number: int, last: bool) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, line, whether it is the file's last line) for every line of a block that is not blank."""
    lines = text.split(b"\n")
    while lines and not lines[-1].strip():
        lines.pop()
    for offset, raw in enumerate(lines):
        if raw.strip():
            yield first_number + offset, raw, last and offset == len(lines) - 1
