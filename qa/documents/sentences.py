"""A fast rule-based sentence splitter that returns character offsets.

Chunking must never cut mid-sentence and answers must quote whole sentences with exact
offsets, over corpora far larger than spaCy's ~20 ms/sentence would allow at index time; a
few well-known rules (abbreviations, initials, decimals, closing quotes) get news prose right.
"""

from __future__ import annotations

import re

# Abbreviations after which a period does not end a sentence (compared lower-cased, no dot).
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep pres rev hon
    jan feb mar apr jun jul aug sep sept oct nov dec
    no nos vol pp p fig figs ed eds al etc vs v approx est dept univ inc corp ltd co
    e.g i.e cf ca u.s u.k u.n u.s.a d.c a.m p.m ph.d b.a m.a
    """.split()
)

# A candidate boundary: sentence-final punctuation, optional closing quotes/brackets, spaces.
_BOUNDARY = re.compile(r"([.!?…]+)([\"'”’)\]]*)(\s+)")
_NEXT_STARTS_SENTENCE = re.compile(r"[\"'“‘(\[]*[A-Z0-9¿¡À-ÖØ-Þ]")
_WORD_BEFORE = re.compile(r"(\S+)$")


def _is_abbreviation(text: str, dot_at: int) -> bool:
    match = _WORD_BEFORE.search(text, 0, dot_at)
    if not match:
        return False
    word = match.group(1).lstrip("\"'“‘([").lower()
    if word in _ABBREVIATIONS:
        return True
    # single initials ("W." in "W.T. Whitney") and dotted acronyms ("U.S")
    return bool(re.fullmatch(r"(?:[a-z]\.)*[a-z]", word))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) offsets of each sentence; whitespace between sentences is not included.

    Paragraph breaks (blank lines) always end a sentence, so headings stay on their own.
    """
    spans: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        p_start, p_text = para.start(), para.group(0)
        start = 0
        for m in _BOUNDARY.finditer(p_text):
            end = m.end(2)
            nxt = m.end(3)
            if nxt >= len(p_text):
                continue
            if not _NEXT_STARTS_SENTENCE.match(p_text, nxt):
                continue
            if m.group(1) == "." and _is_abbreviation(p_text, m.start(1)):
                continue
            _add(spans, p_text, p_start, start, end)
            start = nxt
        _add(spans, p_text, p_start, start, len(p_text))
    return spans


def _add(spans: list[tuple[int, int]], text: str, offset: int, start: int, end: int) -> None:
    chunk = text[start:end]
    stripped_left = len(chunk) - len(chunk.lstrip())
    stripped_right = len(chunk) - len(chunk.rstrip())
    s, e = start + stripped_left, end - stripped_right
    if e > s:
        spans.append((offset + s, offset + e))
