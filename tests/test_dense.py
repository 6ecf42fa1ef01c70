"""FAISS indexes: exact below the threshold, HNSW above it, with recall against exact search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.eval.speed import synthetic_queries, synthetic_vectors
from qa.index import dense


def test_choose_kind_switches_at_the_threshold():
    assert dense.choose_kind(dense.HNSW_THRESHOLD - 1) == dense.FLAT
    assert dense.choose_kind(dense.HNSW_THRESHOLD) == dense.HNSW
    assert dense.choose_kind(10, threshold=5) == dense.HNSW
    assert dense.choose_kind(0) == dense.FLAT


def test_build_chooses_by_size_and_records_kind(monkeypatch):
    vecs = synthetic_vectors(300, seed=3)
    assert dense.kind_of(dense.build(vecs)) == dense.FLAT
    monkeypatch.setattr(dense, "HNSW_THRESHOLD", 200)
    index = dense.build(vecs)
    assert dense.kind_of(index) == dense.HNSW
    assert index.ntotal == 300 and index.hnsw.efSearch == dense.HNSW_EF_SEARCH


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        dense.build(synthetic_vectors(10), kind="ivf")


def test_empty_index_builds_and_searches_nothing():
    index = dense.build(np.zeros((0, 384), dtype=np.float32))
    assert index.ntotal == 0


def test_recall_at_counts_shared_ids():
    exact = np.array([[1, 2, 3, 4], [5, 6, -1, -1]])
    approx = np.array([[1, 2, 9, 8], [6, 5, -1, -1]])
    assert dense.recall_at(approx, exact, k=4) == pytest.approx((0.5 + 1.0) / 2)


def test_exact_search_finds_the_vector_itself():
    vecs = synthetic_vectors(500, seed=1)
    scores, ids = dense.search(dense.build(vecs, kind=dense.FLAT), vecs[:20], 3)
    assert ids[:, 0].tolist() == list(range(20))
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)
    # k larger than the index is clipped, not an error
    assert dense.search(dense.build(vecs[:4]), vecs[:1], 10)[1].shape == (1, 4)


@pytest.mark.slow
def test_hnsw_recall_at_10_against_exact_is_at_least_095():
    vecs = synthetic_vectors(20_000, seed=7)
    queries = synthetic_queries(vecs, 200, seed=8)
    _, exact = dense.search(dense.build(vecs, kind=dense.FLAT), queries, 10)
    hnsw = dense.build(vecs, kind=dense.HNSW)
    dense.set_threads(1)
    _, approx = dense.search(hnsw, queries, 10)
    assert dense.recall_at(approx, exact, 10) >= 0.95


def test_hnsw_survives_save_and_load(tmp_path: Path):
    vecs = synthetic_vectors(1_000, seed=2)
    index = dense.build(vecs, kind=dense.HNSW)
    dense.set_ef_search(index, 7)
    dense.save(index, tmp_path / "v.faiss")
    loaded = dense.load(tmp_path / "v.faiss")
    assert dense.kind_of(loaded) == dense.HNSW
    assert loaded.hnsw.efSearch == dense.HNSW_EF_SEARCH  # the tuned value, not whatever was saved
    assert loaded.reconstruct_n(0, 2).shape == (2, 384)
    assert dense.search(loaded, vecs[:1], 1)[1][0, 0] == 0


@pytest.mark.slow
def test_index_manifest_records_the_kind_and_hnsw_indexes_serve_searches(small_corpus: Path, tmp_path: Path, monkeypatch):
    from qa.answers.retrieve import Searcher
    from qa.config import IndexSettings
    from qa.index.folder import build_index, load_index

    settings = IndexSettings(backend="onnx-int8")
    flat = build_index([small_corpus], tmp_path / "flat", settings)
    assert flat.manifest["index_kind"] == dense.FLAT
    monkeypatch.setattr(dense, "HNSW_THRESHOLD", 1)
    built = build_index([small_corpus], tmp_path / "hnsw", settings)
    assert built.manifest["index_kind"] == dense.HNSW
    loaded = load_index(tmp_path / "hnsw")
    assert dense.kind_of(loaded.vectors) == dense.HNSW
    hits = Searcher(loaded).search("How high is the Misti volcano?", k=2, retriever="dense")
    assert hits and hits[0].passage.path.endswith("volcano.md")
