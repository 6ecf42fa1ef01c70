"""Files other than plain text — PDF, HTML, Word — turned into lines, then into Documents.

One entry point, `extract`, is used both by ingest (to index) and by the answer's line
locator (to map an answer back to page and lines), so both see exactly the same lines. It
never raises for what a folder may hold: a file it cannot read comes back as a one-line
reason ("encrypted", "damaged", "no text layer (scanned?)"), and the libraries' own warnings
and log lines are kept off the terminal.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import PurePath

from qa.documents.clean import Article, Line, Para, build_document, dateline_of, heading_offsets, normalize_line, paragraphs
from qa.documents.formats.base import Extracted, Unreadable, looks_like
from qa.records import Document

__all__ = ["Extracted", "Unreadable", "SUFFIXES", "extract", "to_documents", "is_extracted"]

# loggers of the libraries we call: their warnings describe the file, and we report that in one line
_QUIET_LOGGERS = ("trafilatura", "htmldate", "justext", "courlan", "charset_normalizer", "docx", "pypdfium2", "lxml")


SUFFIXES = (".pdf", ".html", ".htm", ".docx")
_KIND = {".pdf": "a PDF file", ".docx": "a Word file", ".html": "an HTML file", ".htm": "an HTML file"}
_NOT_HTML = ("a PDF file", "a zip archive", "an old Office or encrypted Office file", "binary data")


def _reader(suffix: str) -> Callable[[bytes], Extracted]:
    if suffix == ".pdf":
        from qa.documents.formats.pdf import extract_pdf

        return extract_pdf
    if suffix == ".docx":
        from qa.documents.formats.docx import extract_docx

        return extract_docx
    from qa.documents.formats.html import extract_html

    return extract_html


def is_extracted(name: str) -> bool:
    """Is this file read by a format reader (rather than decoded as plain text)?"""
    return name.lower().endswith(SUFFIXES)


def _wrong_type(suffix: str, data: bytes) -> str | None:
    """Why a file's bytes are not of the type its name says (a .pdf that is HTML, …), or None.

    Checked before any library sees the bytes, so the reason names the real cause instead of
    a parser's complaint. (A .docx is checked by its reader, which also tells encrypted apart.)
    """
    kind = looks_like(data)
    if suffix == ".pdf" and kind != "a PDF file":
        return f"not a PDF file (it looks like {kind}; wrong extension?)"
    if suffix in (".html", ".htm") and kind in _NOT_HTML:
        return f"not an HTML file (it looks like {kind}; wrong extension?)"
    return None


def _quiet_libraries() -> None:
    """Keep the readers' log lines off the terminal: with no handler configured, Python's
    last-resort handler would print their warnings to stderr in the middle of a progress bar."""
    for name in _QUIET_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.CRITICAL + 1)
        logger.propagate = False
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


def extract(data: bytes, name: str) -> tuple[Extracted | None, str | None]:
    """(lines, None) for a readable PDF/HTML/DOCX, or (None, why it is skipped); never raises."""
    suffix = PurePath(name).suffix.lower()
    if not data.strip():
        return None, "empty file"
    wrong = _wrong_type(suffix, data)
    if wrong:
        return None, wrong
    _quiet_libraries()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _reader(suffix)(data), None
    except Unreadable as exc:
        return None, str(exc)
    except (MemoryError, RecursionError):
        return None, f"damaged or too complex to read as {_KIND.get(suffix, 'this type')}"
    except Exception as exc:  # a library failing on a strange file must not end the build
        return None, f"damaged (cannot be read as {_KIND.get(suffix, 'this type')}: {type(exc).__name__})"


def to_documents(ex: Extracted, path: str) -> list[Document]:
    """The extracted lines as one clean Document (paragraphs, title, page map, headings).

    The format readers already removed what is not text (running headers, page furniture,
    boilerplate), so the web-dump rules of qa/documents/clean.py are not applied; only the paragraph
    joining of a PDF's wrapped lines is. The title is the file's own (metadata), else its
    first heading, else its name; the body keeps every line, the title line included, so
    nothing of the file goes missing from the index.
    """
    if ex.file_lines:  # HTML: each block a paragraph of the pieces that stand on each file line
        paras = [Para([Line(no, normalize_line(words), False) for no, words in pieces]) for pieces in ex.file_lines if pieces]
        if not paras:
            return []
    else:
        lines: list[Line] = []
        blank = False
        for no, raw in enumerate(ex.lines, start=1):
            text = normalize_line(raw)
            if not text:
                blank = True
                continue
            lines.append(Line(no, text, blank))
            blank = False
        if not lines:
            return []
        paras = [Para([line]) for line in lines] if ex.flowed else paragraphs(lines, markdown=False)
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    title = ex.title or (ex.headings[0][1] if ex.headings else None) or stem
    # the file's metadata date, else its own dateline (never a date its text merely mentions)
    date = ex.date or dateline_of([p.text for p in paras])
    doc = build_document(Article(title, None, ex.byline, date, paras), path, 1, stem)
    if doc is None:
        return []
    from dataclasses import replace

    headings = heading_offsets(doc, _heading_lines(ex))
    return [replace(doc, page_starts=ex.page_starts, headings=headings, cells=_cells(ex, doc))]


def _cells(ex: Extracted, doc: Document) -> tuple[tuple[int, int, str], ...]:
    """Where each cell of a table with a header stands in the document's text, with its
    column's name (Document.cells); a row whose cells are not all found there is left out."""
    out: list[tuple[int, int, str]] = []
    for row in ex.table_rows:
        where = _row_range(ex, doc, row.line)
        if where is None:
            continue
        found, (at, end) = [], where
        for i, cell in enumerate(row.cells):
            text = normalize_line(cell)
            a = doc.text.find(text, at, end) if text else -1
            if a < 0:
                break
            found.append((a, a + len(text), normalize_line(row.header[i]) if row.header else ""))
            at = a + len(text)
        if len(found) == len(row.cells):
            out.extend(found)
    return tuple(out)


def _row_range(ex: Extracted, doc: Document, line: int) -> tuple[int, int] | None:
    """Where the extracted line `line` stands in the document's text: its span's, or for HTML
    (spans name file lines) from the first to the last span of the file lines its words stand on."""
    if not ex.file_lines:
        spans = [s for s in doc.spans if s.line == line]
    else:
        pieces = ex.file_lines[line - 1] if 0 < line <= len(ex.file_lines) else ()
        nos = {no for no, _ in pieces}
        spans = [s for s in doc.spans if s.line in nos]
    if not spans:
        return None
    return min(s.start for s in spans), max(s.end for s in spans)


def _heading_lines(ex: Extracted) -> list[tuple[int, str]]:
    """The headings with the line numbers the document's spans use (the file's, for HTML)."""
    if not ex.file_lines:
        return list(ex.headings)
    return [(ex.file_lines[i - 1][0][0], h) for i, h in ex.headings if ex.file_lines[i - 1]]


def file_lines(data: bytes, name: str) -> tuple[list[str], tuple[int, ...]] | None:
    """(normalised lines, page starts) of a PDF/HTML/DOCX as ingest saw them; None if unreadable."""
    ex, _ = extract(data, name)
    if ex is None:
        return None
    if ex.file_lines:  # HTML: the article's words on the file's own lines (blocks sharing one: a blank line apart, as in the text)
        on_line: dict[int, list[str]] = {}
        for pieces in ex.file_lines:
            for no, words in pieces:
                on_line.setdefault(no, []).append(normalize_line(words))
        last = max(on_line, default=0)
        return ["\n\n".join(on_line.get(no, [])) for no in range(1, last + 1)], ()
    return [normalize_line(line) for line in ex.lines], ex.page_starts
