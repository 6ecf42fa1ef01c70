"""What the rest of qa needs from an index, whatever holds it (a folder, a Qdrant collection).

Passage ids are row numbers 0..size-1 in build order on every store, so rankings from two
stores compare id for id, and ties break the same way (by id) in the engine's fusion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from qa.records import Passage

# one ranked list: (passage id, score), best first
Ranked = list[tuple[int, float]]


@runtime_checkable
class Store(Protocol):
    """An index as the searcher, the answerer and the commands see it."""

    path: Path | str  # the folder, or "<url>/collections/<name>" for a Qdrant server
    manifest: dict[str, Any]  # model, dimension, chunk settings, corpus fingerprint, counts, timings

    @property
    def backend(self) -> str: ...

    @property
    def size(self) -> int: ...

    @property
    def passages(self) -> Sequence[Passage]:
        """Every passage, id order (the chat's whole-article view, eval); fetch() is the cheap way."""
        ...

    def fetch(self, ids: Sequence[int]) -> list[Passage]: ...

    def dense_search(self, qvec: np.ndarray, depth: int) -> Ranked: ...

    def lexical_search(self, query: str, depth: int) -> Ranked: ...

    def search_lists(self, qvec: np.ndarray | None, query: str | None, depth: int, rrf_k: int | None) -> dict[str, Ranked]:
        """{"dense": …, "bm25": …} for the parts asked (qvec/query not None), plus "fused" when
        the store fuses itself (rrf_k given and both parts asked); without "fused" the engine fuses."""
        ...

    def vectors_by_text(self) -> Mapping[str, np.ndarray]:
        """{embedded text: stored vector}: what a re-index may reuse without embedding."""
        ...


class WritableStore(Store, Protocol):
    """A store that takes passages in place (Qdrant); the FAISS folder is rebuilt whole instead."""

    def add(self, passages: Sequence[Passage], vectors: np.ndarray, texts: Sequence[str], first_id: int) -> None: ...

    def delete(self, ids: Sequence[int]) -> None: ...


def lists_of(store: Store, qvec: np.ndarray | None, query: str | None, depth: int) -> dict[str, Ranked]:
    """The per-retriever lists by the store's single searches (for stores that do not fuse)."""
    lists: dict[str, Ranked] = {}
    if qvec is not None:
        lists["dense"] = store.dense_search(qvec, depth)
    if query is not None:
        lists["bm25"] = store.lexical_search(query, depth)
    return lists
