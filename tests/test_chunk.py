"""Chunking: whole sentences, bounded sizes, nothing dropped, exact line ranges."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.config import ChunkSettings
from qa.documents.chunk import chunk_document
from qa.documents.sentences import sentence_spans
from qa.records import Document, LineSpan

WORDS = st.sampled_from(
    "Peru protest police march Lima strike Congress the of and 54 January U.S. Dr. 1.5 “quoted” it’s".split()
)


def make_document(paragraphs: list[list[str]]) -> Document:
    """A document whose every sentence sits on its own source line, paragraphs a blank line apart."""
    text_parts: list[str] = []
    spans: list[LineSpan] = []
    pos, line = 0, 1
    for p_i, para in enumerate(paragraphs):
        if p_i:
            text_parts.append("\n\n")
            pos += 2
            line += 1  # the blank line
        for s_i, sentence in enumerate(para):
            if s_i:
                text_parts.append(" ")
                pos += 1
            text_parts.append(sentence)
            spans.append(LineSpan(pos, pos + len(sentence), line))
            pos += len(sentence)
            line += 1
    return Document(doc_id="t.txt#1", path="t.txt", title="T", text="".join(text_parts), spans=tuple(spans))


sentence = st.lists(WORDS, min_size=1, max_size=60).map(lambda ws: "A " + " ".join(ws) + ".")
paragraphs = st.lists(st.lists(sentence, min_size=1, max_size=8), min_size=1, max_size=8)
configs = st.builds(
    lambda lo, extra, extra2, ov: ChunkSettings(lo, lo + extra, lo + extra + extra2, ov),
    st.integers(5, 60),
    st.integers(0, 60),
    st.integers(1, 80),
    st.integers(0, 2),
)


def _nonspace_positions(text: str) -> set[int]:
    return {m.start() for m in re.finditer(r"\S", text)}


@settings(max_examples=150, deadline=None)
@given(paragraphs, configs)
def test_chunking_invariants(paras: list[list[str]], cfg: ChunkSettings) -> None:
    doc = make_document(paras)
    passages = chunk_document(doc, cfg)
    assert passages, "a non-empty document yields passages"
    covered: set[int] = set()
    boundaries = {s for s, _ in sentence_spans(doc.text)} | {e for _, e in sentence_spans(doc.text)}
    prev_start = -1
    for i, p in enumerate(passages):
        assert p.text.strip(), "no empty passage"
        assert p.text == doc.text[p.start : p.end]
        assert len(p.text.split()) <= cfg.max_words
        assert p.start > prev_start, "passages advance"
        prev_start = p.start
        # whole sentences unless a single sentence exceeds max_words
        longest = max(len(doc.text[s:e].split()) for s, e in sentence_spans(doc.text))
        if longest <= cfg.max_words:
            assert p.start in boundaries and p.end in boundaries
        assert p.pid == f"{doc.doc_id}:{i + 1}"
        # the claimed lines hold the passage's first and last words
        lines_with_text = {s.line for s in doc.spans if s.start < p.end and s.end > p.start}
        assert (p.line_start, p.line_end) == (min(lines_with_text), max(lines_with_text))
        covered |= set(range(p.start, p.end))
    assert _nonspace_positions(doc.text) <= covered, "joining passages gives back the whole document"
    assert chunk_document(doc, cfg) == passages, "deterministic"


def test_overlap_is_one_sentence_by_default() -> None:
    paras = [[f"Sentence number {i} has exactly seven words." for i in range(60)]]
    doc = make_document(paras)
    passages = chunk_document(doc, ChunkSettings())
    assert len(passages) > 2
    for a, b in zip(passages, passages[1:], strict=False):
        overlap = doc.text[b.start : a.end]
        assert b.start < a.end and len(sentence_spans(overlap)) == 1


def test_prefers_paragraph_ends() -> None:
    para = [f"Para sentence {i} is here with some filler words added." for i in range(9)]  # 90 words
    doc = make_document([para, para, para])
    passages = chunk_document(doc, ChunkSettings(min_words=60, target_words=120, max_words=200, overlap_sentences=0))
    for p in passages[:-1]:
        assert doc.text.startswith("\n\n", p.end), "a passage ends where a paragraph ends"


def test_long_sentence_is_split_at_words() -> None:
    doc = make_document([["word " * 450 + "end."]])
    passages = chunk_document(doc, ChunkSettings())
    assert len(passages) == 3
    assert all(len(p.text.split()) <= 200 for p in passages)


def _holds_a_sentence(text: str) -> bool:
    """At least one sentence of words with its closing punctuation (not "1." nor a heading)."""
    return any(len(re.findall(r"[^\W\d_]{2,}", text[s:e])) >= 3 and re.search(r"[.!?…][\"”’')\]]*$", text[s:e]) for s, e in sentence_spans(text))


HEADED = [
    ["1."],
    ["Safety and people"],
    [f"The inspectors visited school number {i} and wrote down what had to be repaired there." for i in range(12)],
    ["2."],
    ["Water and land"],
    [f"The river below village number {i} was measured twice a year by the water board." for i in range(12)],
    [f"Farmers of valley number {i} asked the board for more water in the dry months." for i in range(12)],
    ["3."],
    ["Money"],
]


def test_a_heading_joins_the_passage_it_heads() -> None:
    """A heading (and its number) starts the passage of the text under it: it was left at the
    end of the passage before, or made a passage of its own."""
    doc = make_document(HEADED)
    passages = chunk_document(doc, ChunkSettings())
    for heading, first in (("Safety and people", "The inspectors visited school number 0"), ("Water and land", "The river below village number 0")):
        holding = [p for p in passages if heading in p.text]
        assert holding and all(first in p.text for p in holding), [p.text for p in passages]
        assert any(p.text.startswith(("1.", "2.")) for p in holding), [p.text for p in holding]


def test_a_fragment_with_no_sentence_is_never_a_passage_of_its_own() -> None:
    for cfg in (ChunkSettings(), ChunkSettings(min_words=20, target_words=40, max_words=60, overlap_sentences=0), ChunkSettings(min_words=5, target_words=10, max_words=20, overlap_sentences=1), ChunkSettings(min_words=10, target_words=15, max_words=16, overlap_sentences=1)):
        doc = make_document(HEADED)
        passages = chunk_document(doc, cfg)
        assert all(_holds_a_sentence(p.text) for p in passages), (cfg, [p.text for p in passages if not _holds_a_sentence(p.text)])
        covered = set().union(*(range(p.start, p.end) for p in passages))
        assert _nonspace_positions(doc.text) <= covered, "nothing dropped: the fragments are inside passages"
