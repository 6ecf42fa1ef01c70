"""Table rows read as sentences, answers mapped back to the cells' own words.

A table row is indexed as its line ("Private health care | Medicover"), which is what the file
holds and what attributions point at. The reader, trained on prose, does not understand that
line: it answers "not found" even when retrieval ranks the row first. So the reader is given a
rendered form of each row of a table with a header row, one sentence per column after the first,
built from the header's names ("The Provider of Private health care is Medicover."), and every
span it picks is mapped back to the passage text. Only spans that lie inside copied words (a
cell, or text outside the table) survive; a span reaching into the inserted words ("Provider of
Private") is dropped, so an answer is always a verbatim stretch of the row, as everywhere else.

Why sentences and not "Benefit: Private health care. Provider: Medicover.": tried on a small
benefits table (not a test set), the shipped reader abstained on that form for every question,
as on the bare row, while "The Provider of Private health care is Medicover." was answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from qa.answers.reader import Reading, Span


@dataclass(frozen=True)
class Rendered:
    """What the reader reads for one passage, and where its copied stretches come from."""

    text: str
    # (start, end) in `text` and the start in the passage of each stretch copied verbatim
    pieces: tuple[tuple[int, int, int], ...]

    @property
    def is_identity(self) -> bool:
        return len(self.pieces) == 1 and self.pieces[0] == (0, len(self.text), 0)


def _same_row(between: str) -> bool:
    """Is this what stands between two cells of one row? (" | " in a Word row's line; pipes
    and spaces in a Markdown row: "|", " | ", " |  | " around an empty cell)"""
    return "|" in between and not between.strip(" |")


def _rows(text: str, cells: Sequence[tuple[int, int, str]]) -> list[list[tuple[int, int, str]]]:
    """The cells grouped by row: neighbours in one line, joined by the separator."""
    rows: list[list[tuple[int, int, str]]] = []
    for cell in sorted(cells):
        if rows and _same_row(text[rows[-1][-1][1] : cell[0]]):
            rows[-1].append(cell)
        else:
            rows.append([cell])
    return rows


def _row_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The row's stretch with the pipes that open and close a Markdown row ("| a | b |")."""
    while start > 0 and text[start - 1] in " |":
        start -= 1
    while end < len(text) and text[end] in " |":
        end += 1
    return start, end


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.parts: list[str] = []
        self.pieces: list[tuple[int, int, int]] = []
        self.pos = 0

    def copy(self, a: int, b: int) -> None:
        if a < b:
            self.pieces.append((self.pos, self.pos + b - a, a))
            self.parts.append(self.source[a:b])
            self.pos += b - a

    def insert(self, words: str) -> None:
        self.parts.append(words)
        self.pos += len(words)

    def done(self) -> Rendered:
        return Rendered("".join(self.parts), tuple(self.pieces))


def _sentence_end(cell: str) -> str:
    return "" if cell.rstrip().endswith((".", "!", "?")) else "."


def render(text: str, cells: Sequence[tuple[int, int, str]]) -> Rendered:
    """The passage as the reader should read it: each body row of a table with a header row
    as "The <column> of <first cell> is <cell>." for each column after the first; the header
    row itself left out (its names are in every row); all other text as it is."""
    if not cells:
        return Rendered(text, ((0, len(text), 0),))
    out = _Builder(text)
    at = 0
    for row in _rows(text, cells):
        if len(row) < 2 and row[0][2]:
            continue  # one filled cell: nothing to pair it with, read as it stands
        start, end = _row_bounds(text, row[0][0], row[-1][1])
        out.copy(at, start)
        at = end
        if all(name == "" for _, _, name in row):
            continue  # the header row: its names stand in the sentences of every row
        key_a, key_b, _ = row[0]
        for j, (a, b, name) in enumerate(row[1:]):
            if j:
                out.insert(" ")
            out.insert(f"The {name} of ")
            out.copy(key_a, key_b)
            out.insert(" is ")
            out.copy(a, b)
            out.insert(_sentence_end(text[a:b]))
    out.copy(at, len(text))
    return out.done()


def to_passage(rendered: Rendered, start: int, end: int) -> tuple[int, int] | None:
    """The passage offsets of rendered.text[start:end], or None when the span reaches into
    inserted words (only inserted spaces and punctuation at its ends are let go)."""
    best = None
    for a, b, src in rendered.pieces:
        lo, hi = max(a, start), min(b, end)
        if lo < hi and (best is None or hi - lo > best[1] - best[0]):
            best = (lo, hi, a, src)
    if best is None:
        return None
    lo, hi, a, src = best
    outside = rendered.text[start:lo] + rendered.text[hi:end]
    if any(ch.isalnum() for ch in outside):
        return None
    return src + lo - a, src + hi - a


def in_passages(reading: Reading, rendered: Sequence[Rendered]) -> Reading:
    """The reading of rendered passages with its spans in the passages' own offsets: spans
    that cannot be mapped are dropped, and one stretch read twice (the first cell stands in
    each of its row's sentences) keeps its best score."""
    if all(r.is_identity for r in rendered):
        return reading
    best: dict[tuple[int, int, int], float] = {}
    for span in reading.spans:
        mapped = to_passage(rendered[span.passage], span.start, span.end)
        if mapped is None:
            continue
        key = (span.passage, *mapped)
        if span.score > best.get(key, float("-inf")):
            best[key] = span.score
    spans = sorted((Span(p, a, b, sc) for (p, a, b), sc in best.items()), key=lambda x: (-x.score, x.passage, x.start, x.end))
    return replace(reading, spans=tuple(spans))
