"""The default store: today's index folder (qa.index.folder.Index, FAISS + bm25s), unchanged on disk.

A thin wrapper so the searcher talks to one interface; the folder's format, build, lock and
staleness checks stay in qa.index.folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.index import dense
from qa.index.folder import Index
from qa.index.vectors.base import Ranked, lists_of
from qa.records import Passage


@dataclass
class FaissStore:
    index: Index

    @property
    def path(self) -> Path:
        return self.index.path

    @property
    def manifest(self) -> dict[str, Any]:
        return self.index.manifest

    @property
    def backend(self) -> str:
        return self.index.backend

    @property
    def size(self) -> int:
        return len(self.index.passages)

    @property
    def passages(self) -> Sequence[Passage]:
        return self.index.passages

    def fetch(self, ids: Sequence[int]) -> list[Passage]:
        return [self.index.passages[i] for i in ids]

    def dense_search(self, qvec: np.ndarray, depth: int) -> Ranked:
        scores, ids = dense.search(self.index.vectors, qvec[None, :], depth)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def lexical_search(self, query: str, depth: int) -> Ranked:
        scores = self.index.bm25.scores(query)
        if not scores.size:
            return []
        depth = min(depth, scores.size)
        top = np.argpartition(-scores, depth - 1)[:depth]
        ranked = sorted(top.tolist(), key=lambda i: (-float(scores[i]), i))
        return [(i, float(scores[i])) for i in ranked if scores[i] > 0]

    def search_lists(self, qvec: np.ndarray | None, query: str | None, depth: int, rrf_k: int | None) -> dict[str, Ranked]:
        return lists_of(self, qvec, query, depth)  # the engine (qa.answers.retrieve.fuse) fuses

    def vectors_by_text(self) -> dict[str, np.ndarray]:
        return self.index.vectors_by_text()
