"""The article of a saved web page, as lines, with its title, author, date and headings.

trafilatura finds the main content (navigation, cookie banners, share buttons, related links,
comments and footers are not article text) and the page's metadata. Its XML output keeps the
structure, so headings are known (for "the section above the passage") and a table row or a
list item becomes one line.
"""

from __future__ import annotations

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
        flowed=True,
        title=root.get("title") or None,
        byline=root.get("author") or None,
        date=root.get("date") or None,
    )
