"""The FAISS side: inner-product search over normalised embeddings (= cosine).

Small indexes use exact search (IndexFlatIP): nothing to tune, nothing to build, and at
100k passages one query still costs ≈ 5 ms on one core. From HNSW_THRESHOLD passages on,
the index is an HNSW graph (IndexHNSWFlat, inner product): exact search grows linearly
(≈ 55 ms per query at 1M, over the latency budget) while HNSW stays under a millisecond
with recall@10 ≥ 0.95 against exact search at the efSearch below. The numbers behind these
constants are in docs/performance.md (`qa bench` re-measures them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FLAT = "flat"
HNSW = "hnsw"
KINDS = (FLAT, HNSW)

HNSW_THRESHOLD = 100_000  # passages; below this exact search is fast enough and exact
HNSW_M = 32  # graph degree: 32 keeps recall high on 384-d text embeddings
HNSW_EF_CONSTRUCTION = 100
HNSW_EF_SEARCH = 128  # recall@10 ≥ 0.99 at 100k–1M in qa bench; faiss uses max(efSearch, k)


def set_threads(n: int) -> None:
    """One query at a time runs many times faster on one OpenMP thread than on two here."""
    import faiss

    faiss.omp_set_num_threads(n)


def choose_kind(n: int, threshold: int | None = None) -> str:
    """"flat" below `threshold` (default HNSW_THRESHOLD) vectors, "hnsw" from it on."""
    return HNSW if n >= (HNSW_THRESHOLD if threshold is None else threshold) else FLAT


def build(vectors: np.ndarray, kind: str | None = None, threads: int | None = None):  # type: ignore[no-untyped-def]
    """A FAISS index over `vectors` (rows L2-normalised): exact, or HNSW when large.

    `kind` None chooses by size (choose_kind). HNSW insertion is parallel, so it uses
    `threads` (default: every core) and then puts FAISS back to one thread for queries.
    """
    import faiss

    n, d = vectors.shape
    kind = kind or choose_kind(n)
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    if kind == FLAT:
        index = faiss.IndexFlatIP(d)
        if n:
            index.add(data)
        return index
    if kind != HNSW:
        raise ValueError(f"unknown index kind {kind!r}: choose one of {', '.join(KINDS)}")
    index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = HNSW_EF_SEARCH
    if n:
        import os

        faiss.omp_set_num_threads(threads or os.cpu_count() or 1)
        try:
            index.add(data)
        finally:
            faiss.omp_set_num_threads(1)
    return index


def kind_of(index) -> str:  # type: ignore[no-untyped-def]
    """"hnsw" for an HNSW graph, "flat" for exact search (what the manifest records)."""
    return HNSW if hasattr(index, "hnsw") else FLAT


def set_ef_search(index, ef: int) -> None:  # type: ignore[no-untyped-def]
    """How wide HNSW searches (recall against speed); no-op on an exact index."""
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = int(ef)


def _c_path(path: Path) -> bool:
    """Can FAISS's C++ reader take this path? Not when the folder name holds undecodable bytes."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def save(index, path: Path) -> None:  # type: ignore[no-untyped-def]
    import faiss

    if _c_path(path):
        faiss.write_index(index, str(path))
        return
    with open(path, "wb") as fh:  # Python opens any path; FAISS gets the bytes
        fh.write(faiss.serialize_index(index).tobytes())


def load(path: Path):  # type: ignore[no-untyped-def]
    import faiss

    if _c_path(path):
        index = faiss.read_index(str(path))  # already the concrete type (IndexFlatIP / IndexHNSWFlat)
    else:
        index = faiss.deserialize_index(np.fromfile(path, dtype=np.uint8))
    set_ef_search(index, HNSW_EF_SEARCH)
    return index


def search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """(scores, ids) of shape (len(queries), k); ids are -1 where fewer than k exist."""
    k = max(1, min(k, index.ntotal))
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)


def recall_at(approx_ids: np.ndarray, exact_ids: np.ndarray, k: int = 10) -> float:
    """Mean share of the exact top-k found in the approximate top-k (recall@k vs exact)."""
    if not len(exact_ids):
        return 1.0
    hits = [
        len(set(a[:k].tolist()) & {i for i in e[:k].tolist() if i >= 0}) / max(1, sum(1 for i in e[:k] if i >= 0))
        for a, e in zip(approx_ids, exact_ids, strict=True)
    ]
    return float(np.mean(hits))
