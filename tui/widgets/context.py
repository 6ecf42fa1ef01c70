"""The full article around a source, with the passage, sentence and span marked, scrolled to it.

The article is rebuilt from the index's passages of the same document: each passage is
`document.text[start:end]`, so laying them at their offsets gives back the cleaned article
with the exact offsets the answer's span refers to (no re-reading or re-cleaning the file).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from qa.records import Passage, Source, place
from qa.safe_text import printable, shown_path

from qa.present import SPAN_STYLE, location

PASSAGE_STYLE = "on #2a3340"
SENTENCE_STYLE = "bold underline"


def document_text(passages: Iterable[Passage], doc_id: str) -> str:
    """The article `doc_id` as far as its passages cover it (gaps, if any, become blanks)."""
    text = ""
    for p in sorted((p for p in passages if p.doc_id == doc_id), key=lambda p: p.start):
        if p.start > len(text):
            text += " " * (p.start - len(text))
        if p.end > len(text):
            text += p.text[len(text) - p.start :]
    return text


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph: the article's paragraphs are joined by blank lines."""
    out, start = [], 0
    while start <= len(text):
        end = text.find("\n\n", start)
        end = len(text) if end < 0 else end
        if text[start:end].strip():
            out.append((start, end))
        start = end + 2
    return out


class ContextScreen(Screen[None]):
    """A full-screen reader for one source's article; Escape goes back to the chat."""

    BINDINGS = [
        Binding("escape", "app.back_to_question", "Back"),
        Binding("q", "app.back_to_question", "Back", show=False),
    ]

    def __init__(self, source: Source, passages: Iterable[Passage]) -> None:
        super().__init__()
        self.source = source
        self.passages = list(passages)
        self.target: Static | None = None

    def compose(self) -> ComposeResult:
        p = self.source.passage
        head = Text(printable(p.title) if p.title else shown_path(p.path), style="bold")
        head.append("\n")
        head.append(location(self.source))
        if p.page is None:
            head.append(f"  (excerpt: lines {p.line_start}-{p.line_end})", style="dim")
        else:  # a PDF: lines count on each page
            head.append(f"  (excerpt: {place('', (p.line_start, p.line_end), (p.page, p.page_end)).strip()})", style="dim")
        if p.byline or p.date:
            head.append("\n")
            head.append(printable(" · ".join(x for x in (p.byline, p.date) if x)), style="dim")
        yield Static(head, id="context-head")
        with VerticalScroll(id="context-body"):
            yield from self._paragraph_widgets()
        yield Footer(compact=True)

    def _paragraph_widgets(self) -> Iterable[Static]:
        p = self.source.passage
        text, offset = document_text(self.passages, p.doc_id), 0
        if not text:  # the passage is not in the index (another index?): show it alone
            text, offset = p.text, p.start
        s_start, s_end = p.start + self.source.sentence_start, p.start + self.source.sentence_end
        span = None
        if self.source.span_start is not None and self.source.span_end is not None:
            span = (p.start + self.source.span_start, p.start + self.source.span_end)
        for a, b in paragraphs(text):
            a0, b0 = a + offset, b + offset  # document offsets of this paragraph
            body = Text(printable(text[a:b]))
            for lo, hi, style in ((p.start, p.end, PASSAGE_STYLE), (s_start, s_end, SENTENCE_STYLE), (*(span or (0, 0)), SPAN_STYLE)):
                lo, hi = max(lo, a0), min(hi, b0)
                if lo < hi:
                    body.stylize(style, lo - a0, hi - a0)
            widget = Static(body, classes="paragraph")
            if a0 < s_end and s_start < b0 and self.target is None:
                widget.add_class("-target")
                self.target = widget
            yield widget

    def on_mount(self) -> None:
        self.call_after_refresh(self._scroll_to_target)

    def _scroll_to_target(self) -> None:
        if self.target is not None:
            self.query_one("#context-body", VerticalScroll).scroll_to_center(self.target, animate=False)
