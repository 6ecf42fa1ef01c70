"""The FAISS side: exact inner-product search over normalised embeddings (= cosine)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def set_threads(n: int) -> None:
    """One query at a time runs many times faster on one OpenMP thread than on two here."""
    import faiss

    faiss.omp_set_num_threads(n)


def build(vectors: np.ndarray):  # type: ignore[no-untyped-def]
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def save(index, path: Path) -> None:  # type: ignore[no-untyped-def]
    import faiss

    faiss.write_index(index, str(path))


def load(path: Path):  # type: ignore[no-untyped-def]
    import faiss

    return faiss.read_index(str(path))


def search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """(scores, ids) of shape (len(queries), k); ids are -1 where fewer than k exist."""
    k = max(1, min(k, index.ntotal))
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
