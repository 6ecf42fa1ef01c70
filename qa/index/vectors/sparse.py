"""BM25 as Qdrant sparse vectors, scored exactly as qa.index.lexical's bm25s index scores.

bm25s (method "lucene") scores a passage as Σ over query terms of
    idf(t) · tf / (tf + k1 · (1 − b + b · dl / avgdl)),   idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5)).
The second factor depends only on the passage, so it is the passage's sparse weight; Qdrant's
IDF modifier multiplies in exactly that idf at query time (from its own live document
frequencies), and a query term counts once per occurrence, as bm25s counts it. The terms come
from the same tokenizer (English stopwords, Snowball stemmer), so the scores match bm25s's to
float rounding.

Term ids are a CRC-32 of the stemmed term: no vocabulary to store or share between workers (a
cluster build needs none), at the price of rare collisions (≈ n²/2³³: about 1 pair in a
30k-term vocabulary), which can only add a little score to a passage.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

K1 = 1.5  # bm25s's defaults, which qa.index.lexical uses
B = 0.75


def _tokenizer():  # type: ignore[no-untyped-def]
    from qa.index.lexical import make_tokenizer

    return make_tokenizer()


def term_id(term: str) -> int:
    return zlib.crc32(term.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class SparseVector:
    indices: list[int]
    values: list[float]


def tokens(texts: Sequence[str]) -> list[list[str]]:
    """Stemmed, stopword-free terms of each text (what bm25s indexes)."""
    if not texts:
        return []
    out = _tokenizer().tokenize(list(texts), return_as="string", show_progress=False)
    return [list(t) for t in out]


def average_length(token_lists: Sequence[Sequence[str]]) -> float:
    return sum(len(t) for t in token_lists) / max(1, len(token_lists))


def document_vectors(token_lists: Sequence[Sequence[str]], avgdl: float) -> list[SparseVector]:
    """One sparse vector per passage: the BM25 term-frequency part of its score."""
    out = []
    for terms in token_lists:
        counts = _by_id(Counter(terms))
        norm = K1 * (1 - B + B * len(terms) / max(avgdl, 1e-9))
        out.append(SparseVector(list(counts), [tf / (tf + norm) for tf in counts.values()]))
    return out


def query_vector(query: str) -> SparseVector:
    """The query's terms, each weighted by how often it occurs (bm25s sums a repeated term again)."""
    counts = _by_id(Counter(tokens([query])[0]))
    return SparseVector(list(counts), [float(c) for c in counts.values()])


def _by_id(counts: Counter[str]) -> dict[int, int]:
    """{term id: count}; terms sharing a CRC (a collision) are summed into one entry."""
    out: dict[int, int] = {}
    for term, n in counts.items():
        tid = term_id(term)
        out[tid] = out.get(tid, 0) + n
    return out
