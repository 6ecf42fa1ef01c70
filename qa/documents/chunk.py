"""Cut documents into sentence-aware passages.

Passages are runs of whole sentences of roughly `target_words` words, ending at a paragraph
break when one is near, overlapping the previous passage by a sentence so that a fact stated
across a boundary is still found whole in one passage. Only a sentence longer than
`max_words` is ever cut, and then at word boundaries.

A heading (a fragment with no sentence: "1.", "Safety and people") starts the passage of the
text it heads, and a fragment is never a passage of its own: it has nothing to answer from,
and showed as a source. Such words may take a passage a few words past `max_words`. (A
document of fragments alone, a note of a few words, stays one passage: nothing else holds it.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from qa.config import ChunkSettings
from qa.documents.sentences import sentence_spans
from qa.records import Document, Passage

_WORD = re.compile(r"\S+")


def _units(doc: Document, max_words: int) -> list[tuple[int, int, int, bool]]:
    """(start, end, words, ends_paragraph) for each sentence, long sentences pre-split."""
    units: list[tuple[int, int, int, bool]] = []
    text = doc.text
    for s, e in sentence_spans(text):
        words = list(_WORD.finditer(text, s, e))
        ends_para = text.startswith("\n\n", e) or e >= len(text.rstrip())
        if len(words) <= max_words:
            units.append((s, e, len(words), ends_para))
            continue
        for i in range(0, len(words), max_words):
            group = words[i : i + max_words]
            last = i + max_words >= len(words)
            units.append((group[0].start(), group[-1].end(), len(group), ends_para and last))
    return units


def _group(units: list[tuple[int, int, int, bool]], cfg: ChunkSettings) -> list[tuple[int, int]]:
    """Index ranges [i, j) of units forming each passage, before overlap is added."""
    groups: list[tuple[int, int]] = []
    i, n = 0, len(units)
    while i < n:
        words, j, last_break = 0, i, None
        while j < n and (j == i or words + units[j][2] <= cfg.max_words):
            words += units[j][2]
            j += 1
            if units[j - 1][3] and words >= cfg.min_words:
                last_break = j  # a paragraph end at an acceptable size
            if words >= cfg.target_words:
                break
        if j < n and not units[j - 1][3] and last_break is not None:
            j = last_break  # stopped mid-paragraph: end at the last paragraph break instead
        groups.append((i, j))
        i = j
    # fold a short tail into the previous passage when it fits
    if len(groups) >= 2:
        (a, _), (c, d) = groups[-2], groups[-1]
        tail = sum(u[2] for u in units[c:d])
        both = sum(u[2] for u in units[a:d])
        if tail < cfg.min_words and both <= cfg.max_words:
            groups[-2:] = [(a, d)]
    return groups


_LETTERS = re.compile(r"[^\W\d_]+")
_CLOSES = re.compile(r"[.!?…][\"”’')\]]*$")
_FRAGMENT_WORDS = 15  # as long as a heading (qa.documents.clean.is_heading): a longer line without a full stop is text


def is_fragment(text: str) -> bool:
    """Not a sentence: a number or mark alone ("1.", "IV)"), or a few words with no closing
    punctuation (a heading, "Safety and people")."""
    if len(_LETTERS.findall(text)) == 0:
        return True
    return len(text.split()) <= _FRAGMENT_WORDS and not _CLOSES.search(text)


def _fragments(doc: Document, units: list[tuple[int, int, int, bool]]) -> list[bool]:
    """Which units are fragments; a piece of a long sentence cut at words is not one."""
    whole = set(sentence_spans(doc.text))
    return [(s, e) in whole and is_fragment(doc.text[s:e]) for s, e, _, _ in units]


def _words(units: list[tuple[int, int, int, bool]], a: int, b: int) -> int:
    return sum(u[2] for u in units[a:b])


def _headings_forward(groups: list[tuple[int, int]], frag: list[bool]) -> list[tuple[int, int]]:
    """A heading joins the passage it heads: fragments closing a passage that holds a sentence
    go to the start of the next passage (a heading at the very end of a document heads
    nothing and stays)."""
    out = list(groups)
    for g in range(len(out) - 1):
        (i, j), (_, k) = out[g], out[g + 1]
        cut = j
        while cut > i and frag[cut - 1]:
            cut -= 1
        if i < cut < j:
            out[g], out[g + 1] = (i, cut), (cut, k)
    return out


def _no_fragment_alone(groups: list[tuple[int, int]], frag: list[bool], units: list[tuple[int, int, int, bool]], max_words: int) -> list[tuple[int, int]]:
    """A passage of fragments only is joined to the next passage (what it heads), else to the
    previous one: it has no sentence to answer from, and showed as a source of its own."""
    out = list(groups)
    g = 0
    while g < len(out) and len(out) > 1:
        i, j = out[g]
        if not all(frag[i:j]):
            g += 1
            continue
        nxt = out[g + 1] if g + 1 < len(out) else None
        prev = out[g - 1] if g > 0 else None
        if nxt is not None and (prev is None or _words(units, i, nxt[1]) <= max_words):
            out[g : g + 2] = [(i, nxt[1])]
        else:
            assert prev is not None
            out[g - 1 : g + 1] = [(prev[0], j)]
            g -= 1
    return out


def chunk_document(doc: Document, cfg: ChunkSettings) -> list[Passage]:
    units = _units(doc, cfg.max_words)
    if not units:
        return []
    frag = _fragments(doc, units)
    groups = _no_fragment_alone(_headings_forward(_group(units, cfg), frag), frag, units, cfg.max_words)
    passages: list[Passage] = []
    prev_i = -1
    for ordinal, (i, j) in enumerate(groups, start=1):
        first = i
        if i > 0 and cfg.overlap_sentences > 0 and not frag[i]:  # no overlap over a heading
            # overlap with whole sentences, keeping the passage under max_words and never
            # swallowing the previous passage whole
            back = max(prev_i + 1, i - cfg.overlap_sentences)
            if back < i and sum(u[2] for u in units[back:j]) <= cfg.max_words:
                first = back
        prev_i = i
        start, end = units[first][0], units[j - 1][1]
        first_line, last_line = doc.lines_for(start, end)
        page, line_start = doc.page_line(first_line)  # a PDF's lines count from 1 on each page
        page_end, line_end = doc.page_line(last_line)
        passages.append(
            Passage(
                pid=f"{doc.doc_id}:{ordinal}",
                doc_id=doc.doc_id,
                path=doc.path,
                title=doc.title,
                text=doc.text[start:end],
                start=start,
                end=end,
                line_start=line_start,
                line_end=line_end,
                date=doc.date,
                byline=doc.byline,
                page=page,
                page_end=page_end,
                section=doc.section_at(start),
                headings=tuple((at - start, h) for at, h in doc.headings if start < at < end),
                cells=tuple((a - start, b - start, name) for a, b, name in doc.cells if start <= a and b <= end),
            )
        )
    return passages


def chunk_documents(docs: Iterable[Document], cfg: ChunkSettings) -> list[Passage]:
    return [p for doc in docs for p in chunk_document(doc, cfg)]
