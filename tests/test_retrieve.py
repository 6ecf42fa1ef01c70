"""Retrieval: fusion rules, the three retrievers on small data, and seed questions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import words_in_lines

from qa.answers.retrieve import RRF_K, fuse
from qa.errors import UsageError


def test_rrf_fusion_by_hand() -> None:
    dense = [(1, 0.9), (2, 0.8), (3, 0.1)]
    bm25 = [(2, 12.0), (4, 3.0)]
    fused = dict(fuse({"dense": dense, "bm25": bm25}, "rrf"))
    assert fused[2] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert fused[1] == pytest.approx(1 / (RRF_K + 1))
    assert fused[4] == pytest.approx(1 / (RRF_K + 2))
    assert [i for i, _ in fuse({"dense": dense, "bm25": bm25}, "rrf")][:2] == [2, 1]


def test_minmax_fusion_ignores_raw_scale() -> None:
    # BM25 scores in the hundreds must not drown cosine scores below 1
    dense = [(1, 0.9), (2, 0.1)]
    bm25 = [(2, 500.0), (1, 499.0)]
    fused = dict(fuse({"dense": dense, "bm25": bm25}, "minmax"))
    assert fused[1] == pytest.approx((1.0 + 0.0) / 2)
    assert fused[2] == pytest.approx((0.0 + 1.0) / 2)


@pytest.fixture(scope="module")
def small_engine(tmp_path_factory: pytest.TempPathFactory):
    from conftest import write_corpus

    from qa.engine import Engine

    root = write_corpus(tmp_path_factory.mktemp("small") / "corpus")
    return Engine.open([root], root.parent / "idx", build_missing=True)


@pytest.mark.slow
@pytest.mark.parametrize("retriever", ["hybrid", "dense", "bm25"])
def test_each_retriever_finds_the_passage(small_engine, retriever: str) -> None:
    hits = small_engine.search("How high is the summit of the Misti volcano?", k=3, retriever=retriever)
    assert hits[0].passage.path == "volcano.md"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))
    assert set(hits[0].ranks) == ({"dense", "bm25"} if retriever == "hybrid" else {retriever})


@pytest.mark.slow
def test_hybrid_hit_carries_both_ranks(small_engine) -> None:
    hit = small_engine.search("railway La Raya pass Cusco Puno", k=1)[0]
    assert hit.passage.path == "sub/rail.txt"
    assert hit.ranks["dense"] == 1 and hit.ranks["bm25"] == 1
    assert hit.scores["dense"] is not None and 0 < hit.scores["dense"] <= 1
    assert hit.scores["bm25"] is not None and hit.scores["bm25"] > 0


@pytest.mark.slow
def test_bad_queries(small_engine) -> None:
    with pytest.raises(UsageError, match="empty"):
        small_engine.search("   ")
    with pytest.raises(UsageError, match="retriever"):
        small_engine.search("alpacas", retriever="sparse")
    # words unknown to BM25 give no BM25 hits but dense still answers
    assert small_engine.search("zzzqqq xxyyzz", retriever="bm25") == []
    assert small_engine.search("zzzqqq xxyyzz", retriever="dense")


@pytest.mark.slow
def test_search_is_deterministic(small_engine) -> None:
    a = small_engine.search_many(["alpaca fleece", "volcano eruption year"], k=3)
    b = [small_engine.search("alpaca fleece", k=3), small_engine.search("volcano eruption year", k=3)]
    assert a == b


SEED_QUESTIONS = [
    ("How many protesters were killed in Juliaca on January 9?", "001_d90f6627ba38402a.txt", "19 protesters were murdered on January 9 in Juliaca"),
    ("Who is the US ambassador in Peru?", "003_0093a7903720f4f3.txt", "The US ambassador in Peru, Lisa Kenna"),
    ("When did the government declare a state of emergency in Lima?", "000_fb6749f6ad696a4f.txt", "On January 15 Peru’s government declared a state of emergency in Lima"),
    ("How many roadblocks were still reported on Friday?", "002_15267f04c4aa48ae.txt", "46 roadblocks were still reported"),
    ("What share of Peru's exports comes from copper and gold?", "000_fb6749f6ad696a4f.txt", "Highland copper and gold represent 87% of Peru’s yearly exports"),
    ("Who was the first protester to die in Lima?", "003_0093a7903720f4f3.txt", "Yacsavilca is the first protester to die in Peru’s capital Lima"),
]


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


@pytest.mark.slow
@pytest.mark.parametrize(("question", "path", "evidence"), SEED_QUESTIONS)
def test_seed_question_passage_in_top3(seeds_engine, question: str, path: str, evidence: str) -> None:
    hits = seeds_engine.search(question, k=3)
    assert any(h.passage.path == path and _squash(evidence) in _squash(h.passage.text) for h in hits), [
        (h.passage.pid, h.passage.text[:80]) for h in hits
    ]


@pytest.mark.slow
def test_seed_passages_point_at_their_lines(seeds_engine) -> None:
    """Every passage's words stand, in order, within its claimed lines of the raw file."""
    root = Path(seeds_engine.index.manifest["corpus"]["root"])
    for p in seeds_engine.index.passages:
        raw = (root / p.path).read_text(encoding="utf-8")
        assert words_in_lines(p.text, raw, p.line_start, p.line_end), p.pid


def test_a_corpus_without_an_index_gets_the_exact_command(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from conftest import run_cli, write_corpus

    corpus = write_corpus(tmp_path / "my notes")
    code, _, err = run_cli(["ask", "How tall is Misti?", "-c", str(corpus)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"qa index '{corpus}'" in err  # a path with a space, quoted ready to paste


@pytest.mark.slow
def test_the_query_cache_never_loses_a_question_of_the_batch_it_is_filling(seeds_engine) -> None:
    """A full cache whose oldest entry is asked again beside new questions: filling in the new
    ones evicts it (it was looked up afterwards and raised KeyError in a long evaluation)."""
    import numpy as np

    from qa.answers.retrieve import Searcher

    class Counting:
        def __init__(self) -> None:
            self.encoded: list[str] = []

        def encode(self, texts, batch_size: int = 32, progress=None):  # type: ignore[no-untyped-def]
            self.encoded += list(texts)
            return np.array([[float(len(t)), float(sum(map(ord, t)) % 97), 1.0] for t in texts], dtype=np.float32)

    enc = Counting()
    s = Searcher(seeds_engine.index, encoder=enc, cache_size=3)
    first = s.embed_queries(["a", "bb", "ccc"])
    again = s.embed_queries(["a", "dddd", "eeeee", "ffffff", "a"])  # "a" is the oldest of a full cache
    assert again.shape == (5, 3)
    assert np.array_equal(again[0], first[0]) and np.array_equal(again[4], first[0])
    assert enc.encoded == ["a", "bb", "ccc", "dddd", "eeeee", "ffffff"]  # "a" was not embedded twice
    assert s.embed_queries(["ffffff"]).tolist() == [again[3].tolist()]
