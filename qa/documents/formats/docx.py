"""The body of a Word (.docx) file as lines: paragraphs, headings, list items and tables.

python-docx reads the body in document order; a table row becomes one line, its cells joined
by " | " (a merged cell counted once). When a table's first row names its columns, each row
also goes out with those names (Extracted.table_rows), so the reader can read the row as
sentences ("The Provider of Private health care is Medicover": qa.answers.tables) while answers and
attributions stay the row's own words and line. Page headers and footers live in other parts of the
file and are never read: they repeat on every page and are not the document's text.

A paragraph's text is that of all its runs, wherever they stand inside it — python-docx's
`Paragraph.text` reads only the runs directly under it and in hyperlinks, so a tracked
insertion (`w:ins`, `w:moveTo`) or an inline content control (`w:sdt`) vanished from the
sentence ("built in <w:ins>1862</w:ins> by" became "built in by"). Deleted text (`w:del`,
`w:moveFrom`) is not the document's text and is left out. Content controls and custom XML
around whole paragraphs and tables at body level are opened, in document order.

Limits (qa/documents/formats/archive.py) are checked before python-docx parses anything: the parts'
inflated size and count, the XML elements, and MAX_PARAGRAPHS.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from qa.documents.formats.archive import check_xml, open_zip
from qa.documents.formats.base import Extracted, TableRow, Unreadable, looks_like

MAX_PARAGRAPHS = 200_000  # a 1,000-page report holds some 20,000; read in about 10 s at the limit
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARAGRAPH_TAG = rb"<w:p[\s>/]"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# tracked deletions (struck-through text, not the document's), and the copy of content an
# older Word shows instead of what mc:Choice holds (read once, from the choice)
_NOT_TEXT = {_W + "del", _W + "moveFrom", _MC + "Fallback"}
_BLOCK_WRAPPERS = {_W + "sdt": _W + "sdtContent", _W + "customXml": None}  # opened at body level


def _heading_styles(document) -> set[str]:  # type: ignore[no-untyped-def]
    """The ids of the heading styles, found once: asking each paragraph for its style made
    python-docx search the style list for the default every time (2.5 ms a paragraph, so
    100,000 paragraphs took minutes)."""
    ids = set()
    for style in document.styles:
        name = style.name or ""
        if name.startswith("Heading") or name == "Title":
            ids.add(style.style_id)
    return ids


def _style_id(p) -> str | None:  # type: ignore[no-untyped-def]
    style = p.find(f"{_W}pPr/{_W}pStyle")
    return style.get(_W + "val") if style is not None else None


def _paragraph_text(p, paragraph) -> str:  # type: ignore[no-untyped-def]
    """The words of every run of the paragraph `p` in document order, inside tracked insertions
    and content controls too; not deleted runs, nor runs of a text box's own paragraphs."""
    from docx.text.run import Run

    parts = []
    for r in p.iter(_W + "r"):
        holder = r.getparent()
        while holder is not None and holder is not p and holder.tag != _W + "p" and holder.tag not in _NOT_TEXT:
            holder = holder.getparent()
        if holder is p:
            parts.append(Run(r, paragraph).text)
    return " ".join("".join(parts).split())


def _blocks(body):  # type: ignore[no-untyped-def]
    """The body's paragraphs and tables in document order, those inside body-level content
    controls (`w:sdt`/`w:sdtContent`) and custom XML included."""
    for child in body.iterchildren():
        if child.tag in (_W + "p", _W + "tbl"):
            yield child
        elif child.tag in _BLOCK_WRAPPERS:
            inner = _BLOCK_WRAPPERS[child.tag]
            for content in child.iterchildren(inner) if inner else (child,):
                yield from _blocks(content)


def _row_cells(row) -> list[str]:  # type: ignore[no-untyped-def]
    """The row's non-empty cell texts, a merged cell once."""
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) in seen:  # a merged cell is returned once per grid column it spans
            continue
        seen.add(id(cell._tc))
        text = " ".join(cell.text.split())
        if text:
            cells.append(text)
    return cells


HEADER_CELL_WORDS = 6  # a column name is a few words ("Benefit", "Price per kilogram")


def is_header_row(cells: list[str], width: int) -> bool:
    """Does this first row name the columns? Every column has a short name that is not a
    figure: "Benefit | Provider", not "2022 | 8 soles" (then the table has no header)."""
    return (
        width >= 2
        and len(cells) == width
        and all(len(c.split()) <= HEADER_CELL_WORDS and not any(ch.isdigit() for ch in c) for c in cells)
        and len({c.casefold() for c in cells}) == width
    )


def _table_lines(table, lines: list[str], rows: list[TableRow]) -> None:  # type: ignore[no-untyped-def]
    """Append the table's rows to `lines`, one line each, and to `rows` the rows of a table
    whose first row is a header (with the header's names beside each body row's cells)."""
    all_cells = [_row_cells(row) for row in table.rows]
    width = len(table.columns)
    header = tuple(all_cells[0]) if all_cells and is_header_row(all_cells[0], width) else None
    for i, cells in enumerate(all_cells):
        if not cells:
            continue
        lines.append(" | ".join(cells))
        if header is not None and len(cells) == len(header):
            rows.append(TableRow(len(lines), tuple(cells), () if i == 0 else header))


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
    wrong one (the document's dateline, if any, is used instead; see qa.documents.formats.to_documents).
    """
    created, modified = _utc(created), _utc(modified)
    if created is not None and modified is not None and modified < created:
        return None
    for value in (created, modified):
        if value is not None and value not in TEMPLATE_DATES:
            return value.date().isoformat()
    return None


def check_limits(data: bytes) -> None:
    """Refuse, before parsing, a .docx whose zip inflates past the limits or that holds more
    than MAX_PARAGRAPHS paragraphs (raises Unreadable with the reason)."""
    check_xml(open_zip(data, "Word file"), "Word file", _PARAGRAPH_TAG, "paragraphs", MAX_PARAGRAPHS)


def extract_docx(data: bytes) -> Extracted:
    """The text of a .docx as lines; raises Unreadable (encrypted, damaged, empty)."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Unreadable("encrypted, or an old .doc file saved as .docx (not readable)")
    if not data.startswith(b"PK\x03\x04"):
        raise Unreadable(f"not a Word file (it looks like {looks_like(data)}; wrong extension?)")
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_limits(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise Unreadable(f"damaged (not a readable Word file: {type(exc).__name__})") from None
    lines: list[str] = []
    headings: list[tuple[int, str]] = []
    table_rows: list[TableRow] = []
    heading_styles = _heading_styles(document)
    for child in _blocks(document.element.body):
        if child.tag == _W + "p":
            text = _paragraph_text(child, Paragraph(child, document))
            if text:
                lines.append(text)
                if _style_id(child) in heading_styles:
                    headings.append((len(lines), text))
        else:
            _table_lines(Table(child, document), lines, table_rows)
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
        table_rows=tuple(table_rows),
    )
