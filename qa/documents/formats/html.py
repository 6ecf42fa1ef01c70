"""The article of a saved web page, as lines, with its title, author, date and headings.

trafilatura finds the main content (navigation, cookie banners, share buttons, related links,
comments and footers are not article text) and the page's metadata. Its XML output keeps the
structure, so headings are known (for "the section above the passage") and a table row or a
list item becomes one line.

trafilatura's output says nothing of where its text stood in the file, so each block is found
again in the page's own text (parsed by lxml, which knows the line of every tag) and cut into
the pieces that stand on each line of the file: an attribution "page.html:23" then names the
line an editor shows, not the 5th paragraph of the article (`Extracted.file_lines`).

Pages that trip the parsers are read as a browser shows them:
- a stray `</body>` or `</html>` in the middle of a page ends nothing in a browser, but lxml
  (libxml2) dropped all that followed it; these end tags are removed before parsing;
- a page nested deeper than libxml2's default limit (256 levels) lost all its text ("no
  article text found"): it is parsed with lxml's huge_tree (2,048 levels); deeper still, it is
  skipped with that reason rather than read in part;
- a paragraph of full sentences that trafilatura leaves out although it stands in the same
  container as the article's text (after a stray `</article>`, say) is put back in its place
  (`_restore_dropped`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence

from qa.documents.formats.base import Extracted, TableRow, Unreadable
from qa.documents.formats.docx import is_header_row

_DEFAULT_DEPTH = 250  # libxml2 stops at 256 levels without huge_tree: deeper pages are parsed with it
_HUGE_DEPTH = 2048  # libxml2's limit with huge_tree
_DOCUMENT_END = re.compile(rb"</\s*(?:body|html)\s*>", re.IGNORECASE)

_BLOCKS = {"p", "head", "item", "row", "quote", "code"}


def _text(el) -> str:  # type: ignore[no-untyped-def]
    """The words of an element, inline markup (hi, ref, lb) flattened to single spaces."""
    return " ".join(" ".join(el.itertext()).split())


def _cells_of(row) -> list:  # type: ignore[no-untyped-def,type-arg]
    """The <cell> elements of a trafilatura <row>."""
    return [c for c in row if isinstance(c.tag, str) and c.tag == "cell"]


def _header_of(table) -> tuple[str, ...] | None:  # type: ignore[no-untyped-def]
    """The column names when the table's first row names its columns (all <th> cells, or
    short names without figures, as for Word tables: docx.is_header_row), else None."""
    rows = [r for r in table if isinstance(r.tag, str) and r.tag == "row"]
    if not rows:
        return None
    first = _cells_of(rows[0])
    names = [_text(c) for c in first]
    width = max(len(_cells_of(r)) for r in rows)
    all_th = bool(first) and all(c.get("role") == "head" for c in first) and all(names) and len(first) == width >= 2
    return tuple(names) if all_th or is_header_row(names, width) else None


def _lines_of(main) -> tuple[list[str], list[tuple[int, str]], list[TableRow]]:  # type: ignore[no-untyped-def]
    """One line per block in document order (a table row's cells joined by " | "), the
    headings, and the rows of tables whose first row names the columns (Extracted.table_rows)."""
    lines: list[str] = []
    headings: list[tuple[int, str]] = []
    table_rows: list[TableRow] = []
    headers: dict[object, tuple[str, ...] | None] = {}

    def table_row(row, cells: list[str]) -> None:  # type: ignore[no-untyped-def]
        table = row.getparent()
        if table is None or table.tag != "table":
            return
        if table not in headers:
            headers[table] = _header_of(table)
        header = headers[table]
        if header is not None and len(cells) == len(header) and all(cells):
            first = next(r for r in table if isinstance(r.tag, str) and r.tag == "row")
            table_rows.append(TableRow(len(lines), tuple(cells), () if row is first else header))

    def walk(el) -> None:  # type: ignore[no-untyped-def]
        for child in el:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag == "row":
                cells = [_text(c) for c in _cells_of(child)]
                line = " | ".join(c for c in cells if c)
                if line:
                    lines.append(line)
                    table_row(child, cells)
                continue
            elif tag in _BLOCKS and not any(isinstance(g.tag, str) and g.tag in _BLOCKS | {"list", "table"} for g in child.iter() if g is not child):
                line = _text(child)
            else:
                walk(child)
                continue
            if line:
                lines.append(line)
                if tag == "head":
                    headings.append((len(lines), line))

    walk(main)
    return lines, headings, table_rows


def _renumbered(rows: list[TableRow], old: list[str], new: list[str]) -> tuple[TableRow, ...]:
    """The table rows with the line numbers they have in `new`, which holds every line of
    `old` in the same order with paragraphs put back between them (_restore_dropped)."""
    where: list[int] = []
    j = 0
    for line in old:
        while new[j] != line:
            j += 1
        where.append(j + 1)
        j += 1
    return tuple(TableRow(where[r.line - 1], r.cells, r.header) for r in rows)


# The page's date from its markup only (meta tags, <time>, JSON-LD; the publication date before
# an update): htmldate's extensive search would take any date the article's text mentions.
PAGE_DATE_ONLY = {"extensive_search": False, "original_date": True}


def without_document_end(data: bytes) -> bytes:
    """The page without its `</body>` and `</html>` end tags, line breaks kept (so file lines
    stay the same): a browser ignores them, text after them included, and the parser closes
    both at the end anyway — but lxml dropped whatever followed a stray one."""
    return _DOCUMENT_END.sub(lambda m: b"\n" * m.group().count(b"\n"), data)


def parse_page(data: bytes):  # type: ignore[no-untyped-def]
    """(the page's lxml tree, True when it is nested deeper than even huge_tree parses, so
    some of its text was left out). `data` as given: callers remove the document end tags.

    Decoded as trafilatura decodes it (UTF-8 first, then a guess), so the words found here
    are the words it extracted, even on a page that does not declare its charset."""
    import lxml.html
    from trafilatura.utils import decode_file

    parser = lxml.html.HTMLParser(huge_tree=True, encoding="utf-8")
    root = lxml.html.document_fromstring(decode_file(data).encode("utf-8"), parser=parser)
    too_deep = any("depth" in str(e.message).lower() for e in parser.error_log)
    return root, too_deep


def _depth(root) -> int:  # type: ignore[no-untyped-def]
    """How many levels of tags the page has (one walk, whatever its shape)."""
    from lxml import etree

    depth = deepest = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        deepest = max(deepest, depth)
    return deepest


def _article_xml(source):  # type: ignore[no-untyped-def]
    """trafilatura's article (XML with metadata, tables, no comments) of the page's bytes or tree."""
    import trafilatura

    return trafilatura.extract(
        source,
        output_format="xml",
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_images=False,
        date_extraction_params=PAGE_DATE_ONLY,
    )


def extract_html(data: bytes) -> Extracted:
    """The main text of an HTML page as lines; raises Unreadable when there is none."""
    from lxml import etree

    data = without_document_end(data)
    try:
        page, too_deep = parse_page(data)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):  # lxml alone cannot parse it: trafilatura decides, as before
        page, too_deep = None, False
    if too_deep:
        raise Unreadable(f"too deeply nested (more than {_HUGE_DEPTH:,} levels of tags; its text cannot be read whole)")
    deep = page is not None and _depth(page) > _DEFAULT_DEPTH
    xml = _article_xml(copy.deepcopy(page) if deep else data)  # trafilatura's own parse stops at 256 levels
    if not xml:
        raise Unreadable("no article text found in the page")
    try:
        root = etree.fromstring(xml.encode("utf-8"))
    except etree.XMLSyntaxError:
        raise Unreadable("damaged (the page's text could not be parsed)") from None
    main = root.find("main")
    lines, headings, rows = _lines_of(main if main is not None else root)
    if not lines:
        raise Unreadable("no article text found in the page")
    table_rows = tuple(rows)
    if page is not None:
        extracted = lines
        lines, headings = _restore_dropped(page, lines, headings)
        table_rows = _renumbered(rows, extracted, lines)
    return Extracted(
        lines=tuple(lines),
        headings=tuple(headings),
        file_lines=file_pieces(data, lines),
        flowed=True,
        title=root.get("title") or None,
        byline=root.get("author") or None,
        date=root.get("date") or None,
        table_rows=table_rows,
    )


# ---------------------------------------------------------------- paragraphs the extractor dropped

_FURNITURE = {"nav", "header", "footer", "aside", "form", "menu", "dialog", "template", "noscript", "script", "style", "head"}
_BOILERPLATE_HINT = re.compile(
    r"comment|share|social|related|promo|advert|sponsor|newsletter|subscri|cookie|consent|banner|footer|header|nav|menu|sidebar|widget|byline|caption|copyright|disclaimer",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
MIN_SENTENCE_WORDS = 8  # a dropped paragraph shorter than this is not put back


def _squeezed(text: str) -> str:
    return "".join(text.split())


def _paragraph_text(el) -> str | None:  # type: ignore[no-untyped-def]
    """The words of a <p>, or None when it holds a script, a comment or other non-text."""
    if any(not isinstance(node.tag, str) or node.tag in _FURNITURE for node in el.iter()):
        return None
    return " ".join("".join(el.itertext()).split())


def _is_full_sentences(text: str) -> bool:
    return len(text.split()) >= MIN_SENTENCE_WORDS and bool(_SENTENCE_END.search(text))


def _looks_like_furniture(el) -> bool:  # type: ignore[no-untyped-def]
    """In a navigation bar, page header or footer, aside or form; or itself marked as a
    comment, share box, byline, … by its class or id."""
    if any(a.tag in _FURNITURE for a in el.iterancestors() if isinstance(a.tag, str)):
        return True
    return bool(_BOILERPLATE_HINT.search(f"{el.get('class', '')} {el.get('id', '')}"))


def _holders(elements) -> set:  # type: ignore[no-untyped-def,type-arg]
    """Every ancestor of the elements; each walk stops at one already seen (its own ancestors
    are in too), so a page thousands of levels deep costs one pass."""
    seen: set = set()  # type: ignore[type-arg]
    for el in elements:
        for ancestor in el.iterancestors():
            if ancestor in seen:
                break
            seen.add(ancestor)
    return seen


def _restore_dropped(page, lines: list[str], headings: list[tuple[int, str]]) -> tuple[list[str], list[tuple[int, str]]]:  # type: ignore[no-untyped-def]
    """Put back the <p> paragraphs of full sentences that trafilatura left out although they
    stand directly in an element that holds the article's extracted paragraphs.

    trafilatura keeps an <article> and drops its siblings: after a stray `</article>`, the
    paragraphs that followed were siblings and went missing without a word. A paragraph is
    put back only when it is MIN_SENTENCE_WORDS words or more ending like a sentence, its
    parent also holds (at some depth) paragraphs that were extracted, and it is not in a
    navigation bar, header, footer, aside or form, nor marked as a comment, share box, … by
    its class or id — so comments and footers stay out. It goes after the extracted paragraph
    that precedes it in the page.
    """
    index = {}
    for i, line in enumerate(lines):
        index.setdefault(_squeezed(line), i)
    joined = "".join(_squeezed(line) for line in lines)
    paragraphs = [(el, _paragraph_text(el)) for el in page.iter("p")]
    holders = _holders(el for el, text in paragraphs if text and _squeezed(text) in index)
    if not holders:
        return lines, headings
    after: dict[int, list[str]] = {}  # line index -> paragraphs put back after it (-1: before all)
    last = -1
    for el, text in paragraphs:
        if not text:
            continue
        key = _squeezed(text)
        if key in index:
            last = max(last, index[key])
        elif el.getparent() in holders and _is_full_sentences(text) and key not in joined and not _looks_like_furniture(el):
            after.setdefault(last, []).append(text)
    if not after:
        return lines, headings
    heading_at = {i - 1 for i, _ in headings}
    entries = [(text, False) for text in after.get(-1, [])]
    for i, line in enumerate(lines):
        entries.append((line, i in heading_at))
        entries.extend((text, False) for text in after.get(i, []))
    new_lines = [text for text, _ in entries]
    return new_lines, [(n, text) for n, (text, is_heading) in enumerate(entries, start=1) if is_heading]


# ---------------------------------------------------------------- where the text stands in the file

_NOT_TEXT = {"head", "script", "style", "noscript", "template"}  # never article text (the <title> is metadata)
_CELL_SEPARATOR = "|"  # put between table cells by _lines_of: not in the file
_WINDOW = 400  # how far past the expected place a word of a block may stand (inline markup, skipped text)


def page_text(data: bytes) -> tuple[str, list[int]]:
    """Every character of the page's text that is not whitespace, and the file line it stands on.

    Whitespace is left out because trafilatura re-spaces text (inline tags, line breaks), while
    the characters themselves come through as written (entities decoded, as lxml decodes them).
    """
    root, _ = parse_page(without_document_end(data))
    chars: list[str] = []
    lines: list[int] = []

    def add(text: str | None, line: int) -> int:
        for ch in text or "":
            if ch == "\n":
                line += 1
            elif not ch.isspace():
                chars.append(ch)
                lines.append(line)
        return line

    # iterative walk (a deeply nested page must not hit Python's recursion limit)
    stack: list[tuple[object, bool]] = [(root, False)]
    line = 1
    while stack:
        el, closing = stack.pop()
        if closing:  # after the element's content: its tail follows its end tag
            line = add(el.tail, line)  # type: ignore[attr-defined]
            continue
        line = getattr(el, "sourceline", None) or line
        tag = el.tag if isinstance(el.tag, str) else ""  # type: ignore[attr-defined]
        stack.append((el, True))
        if tag and tag not in _NOT_TEXT:  # a comment's text or a script is not page text
            line = add(el.text, line)  # type: ignore[attr-defined]
            stack.extend((child, False) for child in reversed(list(el)))  # type: ignore[call-overload]
    return "".join(chars), lines


def file_pieces(data: bytes, blocks: Sequence[str]) -> tuple[tuple[tuple[int, str], ...], ...]:
    """For each extracted line, its words grouped by the file line they stand on:
    ((file line, words), ...). Empty when the page's text cannot be matched to the file (the
    lines then count the extracted blocks, as for Word files)."""
    try:
        text, where = page_text(data)
    except Exception:  # a page lxml cannot parse on its own: attributions fall back to blocks
        return ()
    out: list[tuple[tuple[int, str], ...]] = []
    pos = 0
    for block in blocks:
        pieces = _place_block(block, text, where, pos)
        if pieces is None:
            return ()
        out.append(pieces[0])
        pos = pieces[1]
    return tuple(out)


def _place_block(block: str, text: str, where: list[int], pos: int) -> tuple[tuple[tuple[int, str], ...], int] | None:
    """(the block's words grouped by file line, where the next block's search starts), or None
    when the block's start cannot be found after `pos`. Words inserted by extraction (" | "
    between table cells) or re-spaced stay on the line of the word before them."""
    words = block.split()
    if not words:
        return (), pos
    letters = "".join(w for w in words if w != _CELL_SEPARATOR)
    at = next((a for a in (text.find(letters[:n], pos) for n in (40, 12)) if a >= 0), -1)
    if at < 0:
        return None
    line = where[at]
    grouped: list[list[object]] = []
    p = at
    for w in words:
        found = -1 if w == _CELL_SEPARATOR else p if text.startswith(w, p) else text.find(w, p, p + len(w) + _WINDOW)
        if found >= 0:
            line = max(line, where[found])
            p = found + len(w)
        if grouped and grouped[-1][0] == line:
            grouped[-1][1].append(w)  # type: ignore[union-attr]
        else:
            grouped.append([line, [w]])
    return tuple((int(no), " ".join(ws)) for no, ws in grouped), p  # type: ignore[call-overload,arg-type]
