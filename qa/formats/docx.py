"""The body of a Word (.docx) file as lines: paragraphs, headings, list items and tables.

python-docx reads the body in document order; a table row becomes one line, its cells joined
by " | " (a merged cell counted once). Page headers and footers live in other parts of the
file and are never read: they repeat on every page and are not the document's text.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from .base import Extracted, Unreadable, looks_like


def _is_heading(paragraph) -> bool:  # type: ignore[no-untyped-def]
    name = (paragraph.style.name if paragraph.style is not None else "") or ""
    return name.startswith("Heading") or name == "Title"


def _row_line(row) -> str:  # type: ignore[no-untyped-def]
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) in seen:  # a merged cell is returned once per grid column it spans
            continue
        seen.add(id(cell._tc))
        text = " ".join(cell.text.split())
        if text:
            cells.append(text)
    return " | ".join(cells)


# Core-property dates that belong to a template, not to the document made from it: python-docx's
# default.docx says created = modified = 2013-12-23 23:15 UTC, and every file a program makes
# with python-docx keeps them unless the program sets its own.
TEMPLATE_DATES = frozenset({dt.datetime(2013, 12, 23, 23, 15, tzinfo=dt.timezone.utc)})


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def document_date(created: dt.datetime | None, modified: dt.datetime | None) -> str | None:
    """The file's date from its core properties (ISO), or None when they cannot be trusted.

    The created date, unless it is a known template's; else a modified date that is not one.
    Modified before created is a file whose clock or copy went wrong: no date rather than a
    wrong one (the document's dateline, if any, is used instead; see qa.formats.to_documents).
    """
    created, modified = _utc(created), _utc(modified)
    if created is not None and modified is not None and modified < created:
        return None
    for value in (created, modified):
        if value is not None and value not in TEMPLATE_DATES:
            return value.date().isoformat()
    return None


def extract_docx(data: bytes) -> Extracted:
    """The text of a .docx as lines; raises Unreadable (encrypted, damaged, empty)."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Unreadable("encrypted, or an old .doc file saved as .docx (not readable)")
    if not data.startswith(b"PK\x03\x04"):
        raise Unreadable(f"not a Word file (it looks like {looks_like(data)}; wrong extension?)")
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise Unreadable(f"damaged (not a readable Word file: {type(exc).__name__})") from None
    lines: list[str] = []
    headings: list[tuple[int, str]] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = " ".join(paragraph.text.split())
            if text:
                lines.append(text)
                if _is_heading(paragraph):
                    headings.append((len(lines), text))
        elif tag == "tbl":
            for row in Table(child, document).rows:
                line = _row_line(row)
                if line:
                    lines.append(line)
    if not lines:
        raise Unreadable("no text in the document")
    props = document.core_properties
    return Extracted(
        lines=tuple(lines),
        headings=tuple(headings),
        flowed=True,
        title=(props.title or "").strip() or None,
        byline=(props.author or "").strip() or None,
        date=document_date(props.created, props.modified),
    )
