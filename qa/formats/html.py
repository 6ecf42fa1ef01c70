"""The article of a saved web page, as lines, with its title, author, date and headings.

trafilatura finds the main content (navigation, cookie banners, share buttons, related links,
comments and footers are not article text) and the page's metadata. Its XML output keeps the
structure, so headings are known (for "the section above the passage") and a table row or a
list item becomes one line.

trafilatura's output says nothing of where its text stood in the file, so each block is found
again in the page's own text (parsed by lxml, which knows the line of every tag) and cut into
the pieces that stand on each line of the file: an attribution "page.html:23" then names the
line an editor shows, not the 5th paragraph of the article (`Extracted.file_lines`).
"""

from __future__ import annotations

from collections.abc import Sequence

from .base import Extracted, Unreadable

_BLOCKS = {"p", "head", "item", "row", "quote", "code"}


def _text(el) -> str:  # type: ignore[no-untyped-def]
    """The words of an element, inline markup (hi, ref, lb) flattened to single spaces."""
    return " ".join(" ".join(el.itertext()).split())


def _lines_of(main) -> tuple[list[str], list[tuple[int, str]]]:  # type: ignore[no-untyped-def]
    """One line per block in document order (a table row's cells joined by " | ")."""
    lines: list[str] = []
    headings: list[tuple[int, str]] = []

    def walk(el) -> None:  # type: ignore[no-untyped-def]
        for child in el:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag == "row":
                cells = [_text(c) for c in child if isinstance(c.tag, str) and c.tag == "cell"]
                line = " | ".join(c for c in cells if c)
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
    return lines, headings


# The page's date from its markup only (meta tags, <time>, JSON-LD; the publication date before
# an update): htmldate's extensive search would take any date the article's text mentions.
PAGE_DATE_ONLY = {"extensive_search": False, "original_date": True}


def extract_html(data: bytes) -> Extracted:
    """The main text of an HTML page as lines; raises Unreadable when there is none."""
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(
        data,
        output_format="xml",
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_images=False,
        date_extraction_params=PAGE_DATE_ONLY,
    )
    if not xml:
        raise Unreadable("no article text found in the page")
    try:
        root = etree.fromstring(xml.encode("utf-8"))
    except etree.XMLSyntaxError:
        raise Unreadable("damaged (the page's text could not be parsed)") from None
    main = root.find("main")
    lines, headings = _lines_of(main if main is not None else root)
    if not lines:
        raise Unreadable("no article text found in the page")
    return Extracted(
        lines=tuple(lines),
        headings=tuple(headings),
        file_lines=file_pieces(data, lines),
        flowed=True,
        title=root.get("title") or None,
        byline=root.get("author") or None,
        date=root.get("date") or None,
    )


# ---------------------------------------------------------------- where the text stands in the file

_NOT_TEXT = {"head", "script", "style", "noscript", "template"}  # never article text (the <title> is metadata)
_CELL_SEPARATOR = "|"  # put between table cells by _lines_of: not in the file
_WINDOW = 400  # how far past the expected place a word of a block may stand (inline markup, skipped text)


def page_text(data: bytes) -> tuple[str, list[int]]:
    """Every character of the page's text that is not whitespace, and the file line it stands on.

    Whitespace is left out because trafilatura re-spaces text (inline tags, line breaks), while
    the characters themselves come through as written (entities decoded, as lxml decodes them).
    """
    import lxml.html

    root = lxml.html.document_fromstring(data)
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
