"""Extractive answers: the exact words of the sources that answer a question.

The answer comes from the project's trained reader (`qa.answers.reader`, trained by
tools/train_reader.py on the SQuAD dev files' training articles, not on anything of ours):

1. the top-k retrieved passages of a question are read together, in one batch; the reader
   scores every span of every passage and a shared "no answer" option, on one scale;
2. equal answers from several passages are merged (numbers, dates and durations by value,
   other spans by their SQuAD-normalised words), keeping every source that gives them;
3. a logistic model over the reader's margin over "no answer", the answer's share of the
   shared probability, the null probability and the passage's retrieval rank turns each
   answer into a confidence; it and the abstention threshold were fitted on the *validation*
   articles (qa/models/reader/calibration.json) — the dev gold set and the seeds are only
   ever measured on;
4. when another document's answer is itself confident enough to be given on its own and
   states a number, date or duration that cannot be true together with the best answer
   (compared by value), the answer reports that the sources disagree.

Only onnxruntime, tokenizers and numpy are imported (no torch at question time).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from qa.answers.reader import Reader, Reading
from qa.answers.reader import Span as ReaderSpan
from qa.answers.tables import in_passages, render
from qa.documents.sentences import sentence_spans
from qa.errors import QAError
from qa.records import Answer, Candidate, Hit, Source
from qa.values import VALUE_KINDS, canonical, compatible, find_values, unit_of
from qa.values import normalize_answer as squad_normalize

__all__ = ["Answer", "Candidate", "Source", "answer_questions", "answer_from_hits", "check_options", "answer_features", "abstain_below", "distinct_answers", "read_hits", "reader"]

MAX_CONFLICTS = 5
MAX_VALUE_EXTRA_WORDS = 3  # "at least 60 people" still states one figure
MIN_VALUE_PRIOR = 0.5  # "thousands", "one of them": not a figure a source stands by
SPANS_CONSIDERED = 40  # reader spans looked at per question (best first)
PARAGRAPH_BREAK = "\n\n"  # how documents join paragraphs (qa.documents.clean.build_document)

_READER: Reader | None = None


def reader() -> Reader:
    """The shipped reader, loaded once per process."""
    global _READER
    if _READER is None:
        loaded = Reader.load()
        if loaded.calibration.get("features") != list(FEATURES) or len(loaded.calibration["weights"]) != len(FEATURES):
            raise QAError(
                "the reader calibration was fitted for other confidence features than this qa uses: "
                "reinstall qa, or recalibrate: python tools/train_reader.py calibrate"
            )
        _READER = loaded
    return _READER


def abstain_below() -> float:
    """The confidence under which the answer is "not found" (calibrated on validation articles)."""
    return float(reader().calibration["abstain_below"])


# --------------------------------------------------------------------------- values


_GLUED_AFTER = re.compile(r"\w|[.,]\d")  # more letters or digits, or ",82" of "5,82"
_GLUED_BEFORE = re.compile(r"\d[.,]")


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Not a piece of a longer number or word: "5" of "5,82" (a span cut inside "5,822") is not
    the value 5, or two different answers would be merged as equal."""
    before, after = text[max(0, start - 2) : start], text[end : end + 2]
    glued_before = before[-1:].isalnum() or bool(_GLUED_BEFORE.fullmatch(before))
    return not glued_before and not _GLUED_AFTER.match(after)


def value_of(text: str) -> tuple[str, str] | None:
    """(kind, text of the value) when an answer states one number, date or duration."""
    for kind in VALUE_KINDS:
        spans = [s for s in find_values(text, kind) if s.prior >= MIN_VALUE_PRIOR and _stands_alone(text, s.start, s.end)]
        keys = {canonical(text[s.start : s.end], kind) for s in spans}
        if len(keys) == 1:
            s = spans[0]
            extra = len(text[: s.start].split()) + len(text[s.end :].split())
            if extra <= MAX_VALUE_EXTRA_WORDS:
                return kind, text[s.start : s.end]
    return None


def answer_key(text: str) -> str:
    """Equal keys are the same answer ("1,300" and "1300"; "the CGTP" and "CGTP")."""
    v = value_of(text)
    if v is not None:
        return f"{v[0]}:{canonical(v[1], v[0])}"
    return squad_normalize(text) or text.strip().casefold()


# --------------------------------------------------------------------------- features


FEATURES = ("margin", "log_p_answer", "p_null", "inv_rank")


def answer_features(reading: Reading, spans: Sequence[ReaderSpan], rank: int, without: float = 0.0) -> list[float]:
    """The confidence model's inputs for one answer (its spans, best first).

    `without`: probability mass of another answer to leave out, as if its spans were not there
    — how confident this answer would be on its own (see `_rivals`)."""
    best = spans[0]
    rest = max(1e-6, 1.0 - without)
    p = min(1.0, sum(reading.probability(s) for s in spans) / rest)
    margin = best.score - reading.null_score
    return [max(-20.0, min(20.0, margin)), math.log(max(p, 1e-6)), min(1.0, reading.null_probability / rest), 1.0 / max(1, rank)]


def confidence(features: Sequence[float], calibration: dict[str, Any]) -> float:
    z = float(calibration["bias"]) + sum(w * x for w, x in zip(calibration["weights"], features, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


# --------------------------------------------------------------------------- sources


@dataclass
class _Group:
    """One distinct answer: its reader spans (best first) and where they stand."""

    key: str
    spans: list[ReaderSpan]
    confidence: float = 0.0

    @property
    def best(self) -> ReaderSpan:
        return self.spans[0]


_MARKS = "*_`\"“”‘’"  # emphasis and code marks (Markdown), quotes: in pairs, or layout
_PAIRS = {"(": ")", "[": "]", "“": "”", "‘": "’"}


def trim_span(text: str, a: int, b: int) -> tuple[int, int]:
    """A span without the spaces and trailing commas WordPiece offsets may include, and
    without a mark at either end whose partner is not inside it ("*25.4 billion" of
    "**25.4 billion**", "`July 20", "(Lima"): half of a pair is layout, not the answer."""
    while True:
        a0, b0 = a, b
        while a < b and text[a].isspace():
            a += 1
        while b > a and (text[b - 1].isspace() or text[b - 1] in ",;:" or (text[b - 1] == "." and b - a > 1 and text[b - 2].isdigit())):
            b -= 1  # "1234." ends a sentence, not the number
        if a < b and (text[a] in _MARKS or text[a] in _PAIRS) and not _closed(text[a], text[a + 1 : b]):
            a += 1
        if b > a and text[b - 1] in _MARKS + ")]" and not _opened(text[b - 1], text[a : b - 1]):
            b -= 1
        a, b = _unwrapped(text, a, b)
        if (a, b) == (a0, b0):
            return a, b


def _unwrapped(text: str, a: int, b: int) -> tuple[int, int]:
    """Without marks that wrap the whole span and nothing inside it: "**25.4 billion**",
    "(Lima)", "“Toma de Lima”" — but not "(a) and (b)"."""
    if b - a < 3 or not (text[a] in _MARKS or text[a] in _PAIRS):
        return a, b
    opener, closer = text[a], _PAIRS.get(text[a], text[a])
    n = len(text[a:b]) - len(text[a:b].lstrip(opener))
    m = len(text[a:b]) - len(text[a:b].rstrip(closer))
    inner = text[a + n : b - m]
    if n == m and inner.strip() and opener not in inner and closer not in inner:
        return a + n, b - m
    return a, b


def _closed(mark: str, rest: str) -> bool:
    return _PAIRS.get(mark, mark) in rest


def _opened(mark: str, before: str) -> bool:
    opener = next((o for o, c in _PAIRS.items() if c == mark), mark)
    return opener in before


_LIST_MARKER = re.compile(r"(?:[-*•·–—]|\d{1,3}[.)])\s+")


def _sentence_of(text: str, a: int, b: int) -> tuple[int, int]:
    """The sentence(s) of the passage holding text[a:b], without a list marker ("- ", "2. ")
    before it: layout, not words of the sentence."""
    spans = sentence_spans(text) or [(0, len(text))]
    first = next((s for s in spans if s[1] > a), spans[-1])
    last = next((s for s in reversed(spans) if s[0] < b), first)
    start = min(first[0], a)
    marker = _LIST_MARKER.match(text, start)
    if marker and marker.end() <= a:
        start = marker.end()
    return start, max(last[1], b)


def _source(hit: Hit, a: int, b: int, with_answer: bool, score: float, locator: Any) -> Source:
    p = hit.passage
    s0, s1 = _sentence_of(p.text, a, b)
    lines, pages = locator.place(p, s0, s1) if locator is not None else (None, None)
    changed = locator is not None and locator.changed(p.path)
    return Source(
        passage=p,
        rank=hit.rank,
        retrieval_score=hit.score,
        sentence=p.text[s0:s1],
        sentence_start=s0,
        sentence_end=s1,
        answer=p.text[a:b] if with_answer else None,
        span_start=a if with_answer else None,
        span_end=b if with_answer else None,
        score=round(score, 4),
        lines=lines,
        pages=pages,
        file_changed=changed,
    )


def distinct_answers(reading: Reading, hits: Sequence[Hit], calibration: dict[str, Any]) -> list[_Group]:
    """The reader's spans as distinct answers, most confident first."""
    by_key: dict[str, _Group] = {}
    for span in reading.spans[:SPANS_CONSIDERED]:
        text = hits[span.passage].passage.text
        a, b = trim_span(text, span.start, span.end)
        if a >= b or PARAGRAPH_BREAK in text[a:b]:
            continue  # an answer stands inside one paragraph: "Rex.\n\nThe owl is named Hoo" is two
        span = ReaderSpan(span.passage, a, b, span.score)
        key = answer_key(text[a:b])
        g = by_key.setdefault(key, _Group(key, []))
        if not any(s.passage == span.passage and s.start < b and a < s.end for s in g.spans):
            g.spans.append(span)  # one span per stretch of a passage
    groups = list(by_key.values())
    for g in groups:
        g.confidence = confidence(answer_features(reading, g.spans, hits[g.best.passage].rank), calibration)
    groups.sort(key=lambda g: (-g.confidence, -g.best.score, g.key))
    return groups


def without_overlaps(groups: Sequence[_Group], reading: Reading, hits: Sequence[Hit], calibration: dict[str, Any]) -> list[_Group]:
    """The answers, most confident first, without those whose best span overlaps a span of a
    more confident answer in the same passage: "60", "at least 60 people" and "60 people have
    died" read one stretch of text and are one answer, not three alternatives. An answer that
    stays loses its other overlapping spans (and the confidence they gave it); the best
    answer is never changed (its confidence is calibrated as it stands)."""
    taken: dict[int, list[tuple[int, int]]] = {}

    def free(s: ReaderSpan) -> bool:
        return not any(s.start < b and a < s.end for a, b in taken.get(s.passage, ()))

    out = []
    for g in groups:
        if not free(g.best):
            continue
        spans = [s for s in g.spans if free(s)]
        if len(spans) < len(g.spans):
            g = _Group(g.key, spans)
            g.confidence = confidence(answer_features(reading, spans, hits[g.best.passage].rank), calibration)
        for s in spans:
            taken.setdefault(s.passage, []).append((s.start, s.end))
        out.append(g)
    return out[:1] + sorted(out[1:], key=lambda g: (-g.confidence, -g.best.score, g.key))


def _rivals(groups: Sequence[_Group], reading: Reading, hits: Sequence[Hit], threshold: float, calibration: dict[str, Any]) -> list[_Group]:
    """Other answers that disagree with the best: confident enough to be given on their own
    (the confidence they would have if their document were the only source: the best answer's
    share of the reader's probability left out — two sources that both answer split it — and
    their passage first), from a document that does not also give the best answer, stating a
    value of the same kind that cannot be true together with any answer already shown."""
    best = groups[0]
    taken = sum(reading.probability(s) for s in best.spans)
    kind = value_of(_text(best, hits))
    if kind is None:
        return []
    best_docs = {hits[s.passage].passage.doc_id for s in best.spans}
    shown = [kind[1]]
    out = []
    for g in groups[1:]:
        alone = confidence(answer_features(reading, g.spans, 1, without=taken), calibration)
        if alone < threshold:
            continue
        v = value_of(_text(g, hits))
        if v is None or v[0] != kind[0]:
            continue
        if not {hits[s.passage].passage.doc_id for s in g.spans} - best_docs:
            continue  # one article listing several figures is not a disagreement
        if unit_of(v[1]) != unit_of(kind[1]) and unit_of(v[1]) and unit_of(kind[1]):
            continue  # "346 kilometres" (a river) and "330 metres" (a tower) are not one figure
        if any(compatible(v[1], s, kind[0]) for s in shown):
            continue
        shown.append(v[1])
        out.append(g)
    return out


def _text(g: _Group, hits: Sequence[Hit]) -> str:
    return hits[g.best.passage].passage.text[g.best.start : g.best.end]


def excerpt_range(source: Source) -> tuple[str, int, int]:
    """Where a source's sentence stands in its document: (document, start, end) offsets."""
    start = source.passage.start
    return source.passage.doc_id, start + source.sentence_start, start + source.sentence_end


def distinct_excerpts(sources: Iterable[Source]) -> tuple[Source, ...]:
    """Each excerpt once, at its first place: a sentence in the overlap of two consecutive
    passages is one excerpt (same file, same lines) even when both passages are retrieved and
    both give the answer, and was listed twice."""
    out: list[Source] = []
    for src in sources:
        doc, a, b = excerpt_range(src)
        if not any(d == doc and a < e and s < b for d, s, e in map(excerpt_range, out)):
            out.append(src)
    return tuple(out)


# --------------------------------------------------------------------------- entry point


def answer_one(
    question: str,
    hits: Sequence[Hit],
    reading: Reading,
    locator: Any,
    min_score: float | None = None,
    answers: int = 1,
    calibration: dict[str, Any] | None = None,
) -> Answer:
    """The answer to one question from its hits and what the reader found in them
    (`calibration`: the shipped reader's unless given — tools measure a candidate's)."""
    calibration = reader().calibration if calibration is None else calibration
    threshold = float(calibration["abstain_below"]) if min_score is None else float(min_score)
    if not hits:
        return Answer(question, None, None, 0.0, True, ())
    groups = without_overlaps(distinct_answers(reading, hits, calibration), reading, hits, calibration)
    # each passage's own best answer, for the "closest excerpts" of the passages not cited
    best_in: dict[int, _Group] = {}
    for g in groups:
        for s in g.spans:
            best_in.setdefault(s.passage, g)

    def excerpt(i: int) -> Source:
        g = best_in.get(i)
        span = next((s for s in g.spans if s.passage == i), None) if g else None
        a, b = (span.start, span.end) if span else (0, 0)
        return _source(hits[i], a, b, False, g.confidence if g else 0.0, locator)

    def candidate(g: _Group) -> Candidate:
        srcs = distinct_excerpts(_source(hits[s.passage], s.start, s.end, True, g.confidence, locator) for s in sorted(g.spans, key=lambda s: hits[s.passage].rank))
        return Candidate(srcs[0].answer or "", round(g.confidence, 4), srcs)

    if not groups or groups[0].confidence < threshold:
        conf = groups[0].confidence if groups else 0.0
        return Answer(question, None, None, round(conf, 4), True, distinct_excerpts(excerpt(i) for i in range(len(hits))))
    top = groups[0]
    cited = {s.passage for s in top.spans}
    first = candidate(top)
    sources = distinct_excerpts((*first.sources, *(excerpt(i) for i in range(len(hits)) if i not in cited)))
    # a rival must be confident enough to be an answer by the calibrated threshold, whatever
    # --min-score lets through: --min-score 0 asks for answers, not for every figure to disagree
    rivals = _rivals(groups, reading, hits, max(threshold, float(calibration["abstain_below"])), calibration)
    conflicts = (first, *(candidate(g) for g in rivals[: MAX_CONFLICTS - 1])) if rivals else ()
    return Answer(
        question=question,
        text=first.text,
        sentence=first.sources[0].sentence,
        confidence=round(top.confidence, 4),
        abstained=False,
        sources=sources,
        candidates=(first, *(candidate(g) for g in groups[1 : max(1, answers)])),
        conflicts=conflicts,
    )


def read_hits(rdr: Reader, questions: Sequence[str], hits_all: Sequence[Sequence[Hit]]) -> list[Reading]:
    """The reader's reading of each question's passages, all in one batch, with spans in the
    passages' own offsets. A table row is read as sentences built from its header (qa.answers.tables):
    the reader understands "The Provider of Private health care is Medicover", not the row's
    line, and an answer is still the cell's own words."""
    rendered = [[render(h.passage.text, h.passage.cells) for h in hits] for hits in hits_all]
    readings = rdr.read_many(list(questions), [[r.text for r in rs] for rs in rendered])
    return [in_passages(rd, rs) for rd, rs in zip(readings, rendered, strict=True)]


def check_options(min_score: float | None = None, answers: int = 1) -> None:
    if min_score is not None and not 0.0 <= float(min_score) <= 1.0:
        raise QAError(f"--min-score must be between 0 and 1, not {min_score}")
    if answers < 1:
        raise QAError("--answers must be at least 1")


def answer_questions(
    engine: Any,
    questions: list[str],
    k: int = 5,
    retriever: str = "hybrid",
    min_score: float | None = None,
    answers: int = 1,
) -> list[Answer]:
    """Answer each question from its top-k passages of `retriever`, all read in one batch.

    A question that is empty gets an Answer with `error` set instead of stopping the others.
    """
    from qa.answers.retrieve import check_question

    check_options(min_score=min_score, answers=answers)
    cleaned: list[str | None] = []
    errors: dict[int, str] = {}
    for i, q in enumerate(questions):
        try:
            cleaned.append(check_question(q))
        except QAError as exc:
            cleaned.append(None)
            errors[i] = str(exc)
    valid = [q for q in cleaned if q is not None]
    hits_all = engine.search_many(valid, k=k, retriever=retriever) if valid else []
    given = iter(answer_from_hits(valid, hits_all, engine.locator, min_score=min_score, answers=answers))
    return [Answer(questions[i], None, None, 0.0, True, (), error=errors[i]) if q is None else next(given) for i, q in enumerate(cleaned)]


def answer_from_hits(questions: Sequence[str], hits_all: Sequence[Sequence[Hit]], locator: Any, min_score: float | None = None, answers: int = 1) -> list[Answer]:
    """Each question answered from the passages given for it, all read in one batch — the
    answer layer without the search, for evaluations that choose the passages themselves
    (a question's own article left out of them, say)."""
    readings = read_hits(reader(), list(questions), hits_all) if questions else []
    return [answer_one(q, hits, rd, locator, min_score=min_score, answers=answers) for q, hits, rd in zip(questions, hits_all, readings, strict=True)]
