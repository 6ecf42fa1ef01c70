"""The text layer of a PDF, page by page, as lines — with running headers and footers dropped.

pypdfium2 (PDFium, Chrome's PDF engine) was chosen over pypdf by measurement (docs/performance.md):
the same text and reading order on generated and real PDFs, 6–13× the speed, and it marks a
hyphen that breaks a word at a line end (as \\x02), so the word can be joined again.

Lines are the page's lines as drawn (PDFium's, with the lines it merged at a broken word
split again), numbered from 1 on each page, so "p. 3:12-14" points where a reader looks. A word broken across two lines is joined on the first
line (its tail moves up), which keeps every line verbatim inside the cleaned text — what the
line locator relies on.
"""

from __future__ import annotations

import math
import re
import threading

from qa.documents.clean import normalize_line, split_lines
from qa.documents.formats.base import Extracted, Unreadable

_DIGITS = re.compile(r"\d+")
SHORT_WORDS = 8  # edge lines up to this many words may differ in a page number
# PDFium is not thread-safe, and the chat may map an answer to its page (qa/answers/spans.py) while a
# --watch re-index reads PDFs in another thread: one document at a time
_PDFIUM = threading.Lock()
EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be a running header/footer


def read_pdf(data: bytes) -> tuple[list[str], dict[str, str]]:
    """The text of each page (PDFium's line breaks) and the document information (Title,
    Author, CreationDate); raises Unreadable with the reason."""
    with _PDFIUM:
        return _read_pdf(data)


def _read_pdf(data: bytes) -> tuple[list[str], dict[str, str]]:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Unreadable("encrypted (a password is needed to open it)") from None
        raise Unreadable("damaged (not a readable PDF: truncated or corrupt)") from None
    try:
        texts: list[str] = []
        for i in range(len(doc)):
            page = doc[i]
            try:
                textpage = page.get_textpage()
                try:
                    texts.append(textpage.get_text_bounded())
                finally:
                    textpage.close()
            finally:
                page.close()
        try:
            meta = {k: v.strip() for k, v in doc.get_metadata_dict(skip_empty=True).items() if v and v.strip()}
        except Exception:  # the information dictionary is a nicety; the text is what counts
            meta = {}
        return texts, meta
    except pdfium.PdfiumError:
        raise Unreadable("damaged (a page cannot be read)") from None
    finally:
        doc.close()


def visual_lines(text: str) -> list[str]:
    """A page's lines as drawn: PDFium joins a line that ends in a broken word (marked \\x02)
    with the next one; split them again so line numbers are those a reader sees."""
    return split_lines(text.replace("\r\n", "\n").replace("\x02\n", "\x02").replace("\x02", "\x02\n"))


def join_broken(lines: list[str]) -> list[str]:
    """Join words broken at a line end (marked \\x02): the next text line's first word moves
    up, so each line stays a verbatim piece of the cleaned text and keeps its number.

    "previous inspec\\x02" + "tion, which" → "previous inspection," + "which". Blank lines (a
    dropped footer, a page break) are skipped to find where the word goes on.
    """
    out = list(lines)
    for i, line in enumerate(out):
        if "\x02" not in line:
            continue
        head = line.replace("\x02", "")
        if not line.rstrip().endswith("\x02"):  # a mark inside a line: just remove it
            out[i] = head
            continue
        j = next((k for k in range(i + 1, len(out)) if out[k].strip()), None)
        if j is None:
            out[i] = head.rstrip() + "-"
            continue
        word, _, rest = out[j].lstrip().partition(" ")
        out[i] = head.rstrip() + _joiner(head.rstrip(), word) + word
        out[j] = rest
    return out


def _joiner(head: str, tail: str) -> str:
    """"" to join a word broken by a hyphen, "-" to keep a real hyphen (before a capital or digit)."""
    return "" if head[-1:].isalpha() and tail[:1].islower() else "-"


def _edge_keys(line: str, page: int) -> set[str]:
    """The ways an edge line may repeat on other pages; two lines are the same running line
    when they share a key.

    A running header repeats its words, not just its shape. A short line (up to SHORT_WORDS
    words) matches when its words are the same and its numbers are too, except at most one
    number that moves with the page — a page number ("Page 3 of 10", "Chapter 2: Tagging 7",
    "- 12 -"), keyed by its distance to the page's index so the pages must count up in step.
    "In 2019 the club had 41 members." and "In 2020 the club had 17 members." share their words
    but not their numbers, so both are kept: a count that differs from page to page does not
    move in step with the pages. A line that reads as a sentence has no page counter at all
    (a year may well count up with the pages), and a longer line must repeat exactly.
    """
    text = normalize_line(line).lower()
    numbers = _DIGITS.findall(text)
    shape = _DIGITS.sub("#", text)
    keys = {f"{shape}\0" + " ".join(numbers)}  # the numbers repeat too
    if len(text.split()) <= SHORT_WORDS and not _is_sentence(text):
        for i, number in enumerate(numbers):  # or one of them counts the pages
            if len(number) > 6:  # not a page number (and int() refuses 4,300 digits)
                continue
            rest = numbers[:i] + ["@" + str(int(number) - page)] + numbers[i + 1 :]
            keys.add(f"{shape}\0" + " ".join(rest))
    return keys


def _is_sentence(text: str) -> bool:
    """A line of four words or more ending like a sentence: body text, never a page counter
    ("In 2019 the club had 40 members." on page 1, "In 2020 …" on page 2 count up in step)."""
    return len(text.split()) >= 4 and text.rstrip().endswith((".", "!", "?", ".\"", ".”"))


def drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Blank the lines at page tops and bottoms that repeat across pages (headers, footers,
    page numbers).

    A line counts as running when it stands at the same edge on at least 3 pages, or on at
    least half of the pages of a short document (2 pages at least), with the same words and
    numbers, a page number aside (`_edge_keys`). Lines are peeled from the edge inwards and
    the peeling stops at the first line that is not running, so the body's first line is
    only dropped under a running header. Blanked, not removed: the page's line numbers stay
    those of its extracted text.
    """
    if len(pages) < 2:
        return pages
    need = max(2, min(3, math.ceil(len(pages) / 2)))
    counts: dict[tuple[str, int, str], int] = {}
    edges: list[tuple[list[int], list[int]]] = []
    for page, lines in enumerate(pages):
        nonblank = [i for i, line in enumerate(lines) if line.strip()]
        top, bottom = nonblank[:EDGE_LINES], nonblank[::-1][:EDGE_LINES]
        edges.append((top, bottom))
        keys = {("top", n, key) for n, i in enumerate(top) for key in _edge_keys(lines[i], page)}
        keys |= {("bottom", n, key) for n, i in enumerate(bottom) for key in _edge_keys(lines[i], page)}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    out = []
    for page, (lines, (top, bottom)) in enumerate(zip(pages, edges)):
        drop: set[int] = set()
        for side, order in (("top", top), ("bottom", bottom)):
            for n, i in enumerate(order):
                if max(counts.get((side, n, key), 0) for key in _edge_keys(lines[i], page)) < need:
                    break
                drop.add(i)
        out.append(["" if i in drop else line for i, line in enumerate(lines)])
    return out


def extract_pdf(data: bytes) -> Extracted:
    """The PDF's text as lines, pages in order; raises Unreadable (encrypted, damaged, no text)."""
    texts, meta = read_pdf(data)
    if not texts:
        raise Unreadable("damaged (a PDF without pages)")
    pages = drop_running_lines([visual_lines(t) for t in texts])
    blank_pages = sum(1 for t in texts if not t.strip())
    if blank_pages == len(texts):
        raise Unreadable("no text layer (scanned?)")
    lines: list[str] = []
    starts: list[int] = []
    for page in pages:
        starts.append(len(lines) + 1)
        lines.extend(page)
    lines = join_broken(lines)
    note = f"{blank_pages} of {len(texts)} pages {'has' if blank_pages == 1 else 'have'} no text layer (scanned?)" if blank_pages else None
    return Extracted(
        lines=tuple(lines),
        page_starts=tuple(starts),
        flowed=False,
        title=meta.get("Title"),
        byline=meta.get("Author"),
        date=_pdf_date(meta.get("CreationDate")),
        note=note,
    )


_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?")


def _pdf_date(value: str | None) -> str | None:
    """"D:20240305120000Z" → "2024-03-05" (None when absent or not a date)."""
    m = _PDF_DATE.match(value or "")
    if not m:
        return None
    return "-".join(part for part in m.groups() if part)
