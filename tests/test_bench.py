"""`qa bench`: the helpers, and a --quick run whose JSON has every measurement (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.eval import speed as bench


def test_percentiles_in_milliseconds():
    out = bench.percentiles([0.001] * 19 + [0.1])
    assert out["n"] == 20
    assert out["p50_ms"] == pytest.approx(1.0)
    assert out["p50_ms"] <= out["p95_ms"] <= 100.0
    assert bench.percentiles([])["p50_ms"] is None


def test_synthetic_vectors_are_normalised_and_clustered():
    vecs = bench.synthetic_vectors(4_000, seed=0)
    assert vecs.shape == (4_000, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    sims = vecs[:200] @ vecs.T
    np.fill_diagonal(sims[:, :200], -1)
    # each vector has a clearly nearer neighbour than a random one (unlike uniform noise)
    assert float(np.median(sims.max(axis=1))) > 0.35 > float(np.median(np.abs(sims)))
    q = bench.synthetic_queries(vecs, 10)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)


def test_bench_questions_are_distinct_and_gold_first(tmp_path: Path):
    from qa.records import Passage

    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"question": "Who won?"}) + "\nnot json\n", encoding="utf-8")
    text = "The river rose three metres in one night and flooded the lower town. " * 3
    p = Passage(pid="a.txt#1:1", doc_id="a.txt#1", path="a.txt", title="", text=text, start=0, end=len(text), line_start=1, line_end=1)
    qs = bench.bench_questions([p], 3, gold)
    assert qs[0] == "Who won?"
    assert len(qs) == len(set(qs)) == 3


def test_index_bytes_counts_the_hnsw_graph():
    from qa.index import dense

    vecs = bench.synthetic_vectors(500)
    flat, hnsw = dense.build(vecs, kind=dense.FLAT), dense.build(vecs, kind=dense.HNSW)
    assert bench.index_bytes(flat) == 500 * 384 * 4
    assert bench.index_bytes(hnsw) > bench.index_bytes(flat)


def test_target_checks_mark_met_and_unmet():
    rows = bench.target_checks({"cli": {"help_seconds": 0.1, "cold_seconds": 3.0, "cold_command": "ask"}, "latency": {"ask": {"hybrid": None}}})
    by_name = {r["target"]: r["met"] for r in rows}
    assert by_name["qa --help seconds"] is True
    assert by_name["cold qa ask seconds"] is False
    assert by_name["ask hybrid p50 ms"] is None


def test_bench_followups_point_back_to_the_question_before():
    """Each measured follow-up is taken as one (else the report would time plain questions)."""
    from qa.answers.followup import Turn, understand

    earlier = ["Who won the election in Peru?", "What about the river that flooded the lower town?", "How many people died in the protests?"]
    pairs = bench.followup_pairs(earlier * 2)
    assert [e for e, _ in pairs] == earlier * 2 and {f for _, f in pairs} == set(bench.FOLLOWUPS)
    for e, f in pairs:
        u = understand(f, [Turn(question=e, standalone=e, answer="Lima", doc_id="a.txt#1")])
        assert u.depends and u.standalone != f, (e, f, u)


def test_target_checks_read_the_followup_growth():
    rows = bench.target_checks({"latency": {"ask": {"hybrid": {"p50_ms": 80.0, "p95_ms": 90.0}}, "followup_extra_ms": 12.5}})
    (row,) = [r for r in rows if r["target"].startswith("follow-up")]
    assert row["value"] == 12.5 and row["limit"] == 10.0 and row["met"] is False


def test_measure_followups_on_a_small_index(tmp_path: Path):
    from conftest import write_corpus

    from qa.config import IndexSettings, default_settings
    from qa.index.encoders import load_encoder
    from qa.index.folder import build_index

    index = build_index([write_corpus(tmp_path / "c")], tmp_path / "idx", IndexSettings())
    out = bench.measure_followups(index, load_encoder(default_settings().backend), ["Where is Misti?", "How often is alpaca fleece sheared?"] * 4, warmup=2)
    assert out["n"] == out["plain"]["n"] == 6 and 0 < out["p50_ms"] <= out["p95_ms"] and 0 < out["plain"]["p50_ms"]
    assert out["read_as_followups"] == 1.0


@pytest.mark.slow
def test_quick_bench_json_has_every_measurement(tmp_path: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "qa.cli", "bench", "--quick", "--json", "--work-dir", str(tmp_path / "work")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads(proc.stdout)
    assert r["quick"] is True and r["machine"]["cores"] >= 1

    enc = r["encoder"]
    assert enc["passages"] > 50 and enc["batch_size"] >= 1
    assert enc["bare_passages_per_second"] > 0 and enc["encode_passages_per_second"] > 0

    idx = r["index"]
    assert idx["cold_error"] is None and idx["cold_seconds"] > 0 and idx["warm_seconds"] > 0
    assert idx["index_kind"] == "flat" and idx["passages"] == enc["passages"]
    assert {"manifest.json", "passages.jsonl", "vectors.faiss", "bm25"} <= set(idx["disk_parts"])
    assert idx["disk_bytes"] == sum(idx["disk_parts"].values())

    lat = r["latency"]
    assert set(lat["search"]) == {"hybrid", "dense", "bm25"}
    for s in lat["search"].values():
        assert s["n"] >= 10 and 0 < s["p50_ms"] <= s["p95_ms"]
    assert lat["ask"], "the answer layer (the reader) is always there: ask latency is measured"
    for a in lat["ask"].values():
        assert a is not None and a["n"] >= 1 and 0 < a["p50_ms"] <= a["p95_ms"]
    fu = lat["followup"]
    assert fu["n"] == lat["ask"]["hybrid"]["n"] and 0 < fu["p50_ms"] <= fu["p95_ms"] and fu["read_as_followups"] == 1.0
    assert fu["plain"]["n"] == fu["n"] and lat["followup_extra_ms"] == pytest.approx(fu["p50_ms"] - fu["plain"]["p50_ms"], abs=1e-3)

    cli = r["cli"]
    assert cli["help_seconds"] > 0 and cli["cold_error"] is None and cli["cold_seconds"] > 0
    assert cli["cold_peak_rss_bytes"] > 10 * 2**20  # getrusage(RUSAGE_CHILDREN) on Linux
    assert r["peak_rss_bytes"] > 10 * 2**20

    (dense_row,) = r["scale_dense"]
    for kind in ("flat", "hnsw"):
        assert dense_row[kind]["index_bytes"] >= dense_row["passages"] * 384 * 4
        assert 0 < dense_row[kind]["p50_ms"] <= dense_row[kind]["p95_ms"]
    assert dense_row["flat"]["recall_at_10"] == 1.0
    assert 0.8 <= dense_row["hnsw"]["recall_at_10"] <= 1.0  # approximate, but not far off exact search
    (bm25_row,) = r["scale_bm25"]
    assert bm25_row["passages"] == dense_row["passages"] and bm25_row["index_bytes"] > 0

    assert {t["target"] for t in r["targets"]} >= {"qa --help seconds", "warm build / pure encoding", "follow-up ask p50 − ask p50 ms"}
    assert not list((tmp_path / "work").glob("seeds-cold"))  # the cold build's copy is removed

    from qa.commands.bench import render

    render(r)  # the tables render a real result (n/a cells included) without raising
