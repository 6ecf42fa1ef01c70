"""The records that flow between the stages: ingest → chunk → index → retrieve → answer.

They are plain frozen dataclasses so every stage can be a pure function of its inputs and
so that they serialise to JSON (the passages file, `--json` output) without pickle.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class LineSpan:
    """A stretch of `Document.text` that came from one line of the source file.

    Cleaning rewrites whitespace and joins hard-wrapped lines, so offsets in the clean text
    differ from offsets in the file; these spans are the map back, which is what lets every
    passage and answer say `file:start-end` truthfully.
    """

    start: int  # offset in Document.text (inclusive)
    end: int  # offset in Document.text (exclusive)
    line: int  # 1-based line number in the source file


@dataclass(frozen=True)
class Document:
    """One article, cleaned. A file may hold several."""

    doc_id: str  # stable: "<path>#<n>", n = 1-based article number within the file
    path: str  # the file, relative to the corpus root (POSIX separators)
    title: str
    text: str  # cleaned body: paragraphs joined by "\n\n", single spaces inside a paragraph
    spans: tuple[LineSpan, ...]  # sorted by start; cover every non-blank char of text
    byline: str | None = None
    date: str | None = None
    title_line: int | None = None  # source line of the title, when the title is in the file
    # PDF: the (1-based) line of the extracted text each page starts at, in page order; span
    # lines count through the whole file and page_line turns them into "page 3, line 12"
    page_starts: tuple[int, ...] = ()
    # HTML/DOCX/Markdown: (offset in text, heading text) for each heading, in order
    headings: tuple[tuple[int, str], ...] = ()
    # table cells under a header row: (start, end offset in text, its column's name; "" for a
    # cell of the header row itself), in order; qa.answers.tables reads rows with them
    cells: tuple[tuple[int, int, str], ...] = ()

    def page_line(self, line: int) -> tuple[int | None, int]:
        """(page, line on that page) for a line of the text; (None, line) for a file without pages."""
        return page_line(self.page_starts, line)

    def section_at(self, offset: int) -> str | None:
        """The heading standing at or above text[offset] (None before the first heading or without headings)."""
        i = bisect.bisect_right([h[0] for h in self.headings], offset) - 1
        return self.headings[i][1] if i >= 0 else None

    def lines_for(self, start: int, end: int) -> tuple[int, int]:
        """Source line range (1-based, inclusive) holding text[start:end]."""
        if not self.spans:
            return (self.title_line or 1, self.title_line or 1)
        starts = [s.start for s in self.spans]
        first = max(0, bisect.bisect_right(starts, start) - 1)
        # skip spans that end before `start` (e.g. start falls on a paragraph break)
        while first + 1 < len(self.spans) and self.spans[first].end <= start:
            first += 1
        last = max(first, bisect.bisect_left(starts, end) - 1)
        lines = [s.line for s in self.spans[first : last + 1]]
        return (min(lines), max(lines))


def page_line(page_starts: tuple[int, ...] | list[int], line: int) -> tuple[int | None, int]:
    """(page, line on that page) for a line counted through all pages (None: no pages)."""
    if not page_starts:
        return (None, line)
    i = max(0, bisect.bisect_right(page_starts, line) - 1)
    return (i + 1, line - page_starts[i] + 1)


def place(path: str, lines: tuple[int, int], pages: tuple[int, int] | tuple[None, None] | None = None) -> str:
    """`file:12-14`, or `file p. 3:12-14` (`file p. 3:40-p. 4:2` across a page break) for a PDF."""
    from qa.safe_text import shown_path

    path = shown_path(path)  # names are stored escaped; an index from before that may hold raw ones
    a, b = lines
    first, last = pages or (None, None)
    if first is None:
        return f"{path}:{a}-{b}"
    if last is None or last == first:
        return f"{path} p. {first}:{a}-{b}"
    return f"{path} p. {first}:{a}-p. {last}:{b}"


@dataclass(frozen=True)
class Skipped:
    """A file (or part of one) that ingest did not use, and why — shown to the user."""

    path: str
    reason: str


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    files: tuple[str, ...]  # every file read, relative paths, sorted
    skipped: tuple[Skipped, ...] = ()
    warnings: tuple[str, ...] = ()
    root: str = ""  # absolute path the relative paths are relative to
    fingerprint: str = ""  # hash of the bytes read to make this corpus (qa.documents.ingest.Fingerprint)
    # {relative name: sha256 of its bytes} for every file read: what an incremental re-index compares
    file_hashes: dict[str, str] = field(default_factory=dict)
    # {relative name: how many of its lines cleaning dropped as boilerplate}, files that lost any
    dropped_lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Passage:
    """A retrievable excerpt: a run of whole sentences from one document."""

    pid: str  # stable: "<doc_id>:<ordinal>"
    doc_id: str
    path: str
    title: str
    text: str  # == document.text[start:end]
    start: int  # char offsets into Document.text
    end: int
    line_start: int  # 1-based, inclusive, in the source file
    line_end: int
    date: str | None = None
    byline: str | None = None
    # PDF: the pages line_start and line_end are on (lines count from 1 on each page); None otherwise
    page: int | None = None
    page_end: int | None = None
    section: str | None = None  # HTML/DOCX/Markdown: the heading above the passage
    headings: tuple[tuple[int, str], ...] = ()  # (offset in text, heading) for headings inside it
    cells: tuple[tuple[int, int, str], ...] = ()  # table cells inside it, as Document.cells (offsets in text)

    def section_at(self, offset: int) -> str | None:
        """The heading above text[offset]: the last one inside the passage before it, else the passage's."""
        inside = [h for at, h in self.headings if at <= offset]
        return inside[-1] if inside else self.section

    @property
    def location(self) -> str:
        return place(self.path, (self.line_start, self.line_end), (self.page, self.page_end))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Passage:
        if "headings" in obj:  # JSON has lists; the record holds tuples (so loaded == built)
            obj = {**obj, "headings": tuple((int(at), str(h)) for at, h in obj["headings"] or ())}
        if "cells" in obj:
            obj = {**obj, "cells": tuple((int(a), int(b), str(name)) for a, b, name in obj["cells"] or ())}
        return cls(**obj)


@dataclass(frozen=True)
class Hit:
    """A passage returned for a question, with what each retriever thought of it."""

    passage: Passage
    score: float  # the score the ranking was made by (fused score for hybrid)
    rank: int  # 1-based rank in this result list
    ranks: dict[str, int | None] = field(default_factory=dict)  # {"dense": 3, "bm25": None}
    scores: dict[str, float | None] = field(default_factory=dict)  # raw per-retriever scores

    def to_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "ranks": self.ranks,
            "scores": {k: (None if v is None else round(v, 6)) for k, v in self.scores.items()},
            **self.passage.to_json(),
            "location": self.passage.location,
        }


@dataclass(frozen=True)
class Source:
    """One passage offered as evidence for an answer, with the answer marked inside it.

    Offsets are into `passage.text`, so `passage.text[span_start:span_end] == answer` and
    `passage.text[sentence_start:sentence_end] == sentence` — verbatim, always.
    """

    passage: Passage
    rank: int  # retrieval rank of the passage
    retrieval_score: float
    sentence: str
    sentence_start: int
    sentence_end: int
    answer: str | None = None  # the span this source gives (None: a closest excerpt only)
    span_start: int | None = None
    span_end: int | None = None
    score: float = 0.0  # how well this sentence answers the question, in [0, 1]
    lines: tuple[int, int] | None = None  # source-file lines of the sentence (or span)
    pages: tuple[int, int] | None = None  # PDF: the pages lines[0] and lines[1] are on
    # the file is not the one indexed (edited, replaced or deleted since): `lines` are where the
    # text stood when it was indexed, and the file may no longer hold it there
    file_changed: bool = False

    @property
    def page_range(self) -> tuple[int, int] | tuple[None, None]:
        """(first, last) page of the sentence; (None, None) for a file without pages."""
        if self.pages is not None:
            return self.pages
        if self.passage.page is not None:  # lines not located: the passage's own range
            return (self.passage.page, self.passage.page_end or self.passage.page)
        return (None, None)

    @property
    def section(self) -> str | None:
        """The heading above the sentence (HTML/DOCX), None when the file has none."""
        return self.passage.section_at(self.sentence_start)

    @property
    def location(self) -> str:
        return place(self.passage.path, self.lines or (self.passage.line_start, self.passage.line_end), self.page_range)

    def to_json(self) -> dict[str, Any]:
        p = self.passage
        first, last = self.page_range
        return {
            "file": p.path,
            "title": p.title,
            "date": p.date,
            "byline": p.byline,
            "page": first,
            "page_end": last,
            "section": self.section,
            "lines": list(self.lines or (p.line_start, p.line_end)),
            "location": self.location,
            "file_changed": self.file_changed,
            "passage_id": p.pid,
            "passage_lines": [p.line_start, p.line_end],
            "excerpt": p.text,
            "rank": self.rank,
            "retrieval_score": round(self.retrieval_score, 6),
            "score": round(self.score, 4),
            "sentence": self.sentence,
            "sentence_offsets": [self.sentence_start, self.sentence_end],
            "answer": self.answer,
            "span_offsets": None if self.span_start is None else [self.span_start, self.span_end],
        }


@dataclass(frozen=True)
class Candidate:
    """A distinct answer and every source that gives it."""

    text: str
    confidence: float
    sources: tuple[Source, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.text,
            "confidence": round(self.confidence, 4),
            "sources": [s.to_json() for s in self.sources],
        }


@dataclass(frozen=True)
class Answer:
    """What `qa ask` returns: the best answer, or an abstention, with all its sources.

    `conflicts` is non-empty when several sources answer the question differently (e.g.
    different death tolls): each distinct answer with the sources that give it.
    """

    question: str
    text: str | None  # the answer span; None when abstained
    sentence: str | None  # the sentence holding it
    confidence: float  # in [0, 1]
    abstained: bool
    sources: tuple[Source, ...]  # supporting sources first, then the closest excerpts
    candidates: tuple[Candidate, ...] = ()  # the N best distinct answers (--answers N)
    conflicts: tuple[Candidate, ...] = ()
    error: str | None = None
    # a follow-up in a conversation (qa.answers.followup): the question as it was read, and the
    # words taken from the earlier turns; None / () for a question that stands alone
    standalone_question: str | None = None
    context: tuple[str, ...] = ()

    @property
    def span(self) -> tuple[int, int] | None:
        top = self.sources[0] if self.sources else None
        if self.abstained or top is None or top.span_start is None:
            return None
        return (top.span_start, top.span_end)  # type: ignore[return-value]

    def to_json(self) -> dict[str, Any]:
        top = self.sources[0] if self.sources and not self.abstained else None
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "context": list(self.context),
            "answer": self.text,
            "span": None
            if top is None or top.span_start is None
            else {"start": top.span_start, "end": top.span_end, "passage_id": top.passage.pid},
            "sentence": self.sentence,
            "confidence": round(self.confidence, 4),
            "abstained": self.abstained,
            "sources": [s.to_json() for s in self.sources],
            "answers": [c.to_json() for c in self.candidates],
            "conflicts": [c.to_json() for c in self.conflicts],
            "error": self.error,
        }
