"""Dense, BM25 and hybrid retrieval over a loaded index.

Hybrid fuses the two rankings, never their raw scores: BM25 scores are unbounded and
corpus-dependent while cosine lives in [-1, 1], so adding them would let one drown the
other. Reciprocal-rank fusion (the default, chosen on the dev gold set — see docs/) and
min-max normalised score fusion are both available.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from qa.config import RETRIEVERS
from qa.errors import UsageError
from qa.index import dense
from qa.index.encoders import Encoder, load_encoder
from qa.index.folder import Index
from qa.index.vectors.base import Store
from qa.records import Hit
from qa.values import acronym_in

# RRF's k: 1/(k + rank). The usual 60 flattens the top of each list; 10 lets a retriever's first
# hits count more, which measured better at the top on all three sets we have (2026-11-29):
# dev gold Recall@5 0.878 → 0.895, SQuAD sample Recall@5 0.960 → 0.973, SciFact nDCG@10
# 0.712 → 0.715 (its Recall@100 0.958 → 0.948: deep recall is not what an answer uses).
RRF_K = 10
FUSIONS = ("rrf", "minmax")


def check_retriever(name: str) -> str:
    if name not in RETRIEVERS:
        raise UsageError(f"unknown retriever {name!r}: choose one of {', '.join(RETRIEVERS)}")
    return name


# ANSI escape sequences (CSI "ESC [ … final", OSC "ESC ] … BEL/ST", two-byte "ESC x"): a question
# pasted from a coloured terminal should mean the same as its plain words.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def check_question(question: str) -> str:
    """The question as it is searched: escapes, control and invisible characters removed, one line.

    The same line normalisation as documents get (qa.documents.clean.normalize_line), so a NUL byte, a
    zero-width space or a colour code neither changes the answer nor makes an empty-looking
    question pass as a real one.
    """
    from qa.documents.clean import normalize_line

    cleaned = normalize_line(_ANSI.sub(" ", question or ""))
    if not cleaned:
        raise UsageError("the question is empty")
    return cleaned


class Searcher:
    """Answers `search(question)` from one index; the query encoder loads on first use."""

    def __init__(
        self,
        index: Index,
        encoder: Encoder | None = None,
        fusion: str = "rrf",
        depth: int = 50,
        cache_size: int = 1024,
    ) -> None:
        if fusion not in FUSIONS:
            raise UsageError(f"unknown fusion {fusion!r}: choose one of {', '.join(FUSIONS)}")
        self.index = index
        self.store = as_store(index)  # the seam every search goes through (qa.index.vectors.base.Store)
        self._encoder = encoder
        self.fusion = fusion
        self.depth = depth  # how deep each retriever's list goes before fusion
        self._qcache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        dense.set_threads(1)

    # ------------------------------------------------------------ embeddings

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = load_encoder(self.index.backend)
        return self._encoder

    def embed_queries(self, questions: Sequence[str]) -> np.ndarray:
        """Embed in one batch, skipping questions already embedded (LRU cache)."""
        # this batch's vectors are held here, not looked up in the cache after filling it: the
        # new ones could evict a cached question of the same batch (a KeyError on a long run)
        found = {q: self._qcache[q] for q in dict.fromkeys(questions) if q in self._qcache}
        missing = [q for q in dict.fromkeys(questions) if q not in found]
        if missing:
            found.update(zip(missing, self.encoder.encode(missing, batch_size=64), strict=True))
        for q, v in found.items():
            self._qcache[q] = v
            self._qcache.move_to_end(q)
            while len(self._qcache) > self._cache_size:
                self._qcache.popitem(last=False)
        out = np.stack([found[q] for q in questions]) if questions else np.zeros((0, 1))
        return out.astype(np.float32, copy=False)

    # ------------------------------------------------------------ search

    def search(self, question: str, k: int = 5, retriever: str = "hybrid") -> list[Hit]:
        return self.search_many([question], k=k, retriever=retriever)[0]

    def search_many(
        self, questions: Sequence[str], k: int = 5, retriever: str = "hybrid"
    ) -> list[list[Hit]]:
        check_retriever(retriever)
        if k < 1:
            raise UsageError("-k must be at least 1")
        questions = [check_question(q) for q in questions]
        qvecs = self.embed_queries(questions) if retriever != "bm25" else None
        return [
            self._search_one(q, None if qvecs is None else qvecs[i], k, retriever)
            for i, q in enumerate(questions)
        ]

    def _search_one(self, question: str, qvec: np.ndarray | None, k: int, retriever: str) -> list[Hit]:
        n = self.store.size
        depth = min(max(self.depth, k), n)
        assert qvec is not None or retriever == "bm25"
        lists = self.store.search_lists(
            qvec if retriever in ("dense", "hybrid") else None,
            lexical_query(question) if retriever in ("bm25", "hybrid") else None,
            depth,
            RRF_K if retriever == "hybrid" and self.fusion == "rrf" else None,
        )
        engine_fused = lists.pop("fused", None)  # a store that fuses itself (Qdrant: prefetch + RRF)

        ranks = {name: {i: r for r, (i, _) in enumerate(lst, start=1)} for name, lst in lists.items()}
        raw = {name: dict(lst) for name, lst in lists.items()}
        if retriever == "hybrid":
            fused = engine_fused if engine_fused is not None else fuse(lists, self.fusion)
        else:
            fused = lists[retriever]
        fused = sorted(fused, key=lambda t: (-t[1], t[0]))[:k]
        passages = self.store.fetch([i for i, _ in fused])
        return [
            Hit(
                passage=passage,
                score=score,
                rank=r,
                ranks={name: ranks[name].get(i) for name in lists},
                scores={name: raw[name].get(i) for name in lists},
            )
            for r, ((i, score), passage) in enumerate(zip(fused, passages, strict=True), start=1)
        ]


def as_store(index: Index | Store) -> Store:
    """A folder index (qa.index.folder.Index) wrapped as a store; any other store as it is."""
    if isinstance(index, Index):
        from qa.index.vectors.faiss_store import FaissStore

        return FaissStore(index)
    return index


def lexical_query(question: str) -> str:
    """What BM25 should look for: "What does CGTP stand for?" is about "CGTP" — the frame words
    ("stand", "mean") would otherwise pull in passages about standing and meaning."""
    return acronym_in(question) or question


def fuse(lists: dict[str, list[tuple[int, float]]], method: str = "rrf") -> list[tuple[int, float]]:
    """Combine ranked (id, score) lists into one (id, fused score) list, best first."""
    fused: dict[int, float] = {}
    for lst in lists.values():
        if not lst:
            continue
        if method == "rrf":
            for rank, (i, _) in enumerate(lst, start=1):
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank)
        else:
            hi, lo = lst[0][1], min(s for _, s in lst)
            span = (hi - lo) or 1.0
            for i, s in lst:
                fused[i] = fused.get(i, 0.0) + (s - lo) / span / len(lists)
    return sorted(fused.items(), key=lambda t: (-t[1], t[0]))
