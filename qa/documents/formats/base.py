"""What every format reader returns, and how it says a file cannot be read.

A PDF, web page or Word file is turned into a flat list of text lines (a PDF's pages joined
in order) before anything else looks at it. Ingest cleans and chunks those lines, and the
answer's line locator (qa/answers/spans.py) re-reads the file through the very same function, so a
line number in an attribution always means the same line.
"""

from __future__ import annotations

from dataclasses import dataclass


class Unreadable(Exception):
    """A file of a supported type whose text cannot be had; str() is the one-line reason."""


@dataclass(frozen=True)
class Extracted:
    """The text of one non-plain-text file as lines, with where pages and headings are."""

    lines: tuple[str, ...]  # the text, one line each; "" for a blank or dropped line (numbers stay)
    # 1-based line each page starts at (PDF); empty for formats without pages
    page_starts: tuple[int, ...] = ()
    headings: tuple[tuple[int, str], ...] = ()  # (1-based line, heading text), in order
    # HTML: for each line above, its words grouped by the line of the file they stand on,
    # ((file line, words), ...); empty when lines are not the file's (PDF pages, Word)
    file_lines: tuple[tuple[tuple[int, str], ...], ...] = ()
    # True: each line is a paragraph (HTML, DOCX); False: lines are a page's wrapped lines (PDF)
    flowed: bool = True
    title: str | None = None
    byline: str | None = None
    date: str | None = None
    note: str | None = None  # a warning for the summary (e.g. pages without text)
    # tables whose first row names the columns: each row's line (1-based), its cell texts as
    # they stand in that line, and the header's cell texts (() on the header row itself)
    table_rows: tuple[TableRow, ...] = ()


@dataclass(frozen=True)
class TableRow:
    """One row of a table with a header row, for reading it as "the Provider of X is Y"."""

    line: int  # 1-based line of Extracted.lines that holds the row (cells joined by " | ")
    cells: tuple[str, ...]
    header: tuple[str, ...]  # the column names, one per cell; () when this row is the header


def looks_like(data: bytes) -> str:
    """What a file's first bytes say it is, for "wrong extension?" reasons."""
    head = data[:2048].lstrip()
    low = head.lower()
    if head.startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        return "a PDF file"
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Office or encrypted Office file"
    if low.startswith((b"<!doctype html", b"<html")) or b"<html" in low or b"<body" in low:
        return "HTML"
    if b"\x00" in head:
        return "binary data"
    return "plain text"
