"""The re-index benchmark (qa.eval.reindex): a deterministic generated folder, and a small real
run whose result has every number `qa bench` reports (no timing asserted beyond sanity)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.eval import reindex as bench_reindex
from qa.eval import speed as bench


def test_generated_folder_is_deterministic(tmp_path: Path) -> None:
    a = bench_reindex.generate_folder(tmp_path / "a", 25)
    b = bench_reindex.generate_folder(tmp_path / "b", 25)
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*.txt"))
    assert len(names) == 25 and names == sorted(p.relative_to(b).as_posix() for p in b.rglob("*.txt"))
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    texts = {(a / n).read_text(encoding="utf-8") for n in names}
    assert len(texts) == 25, "every note differs"
    sentences = bench_reindex.seed_sentences()
    assert bench_reindex.note_text(3, sentences, version=1) != bench_reindex.note_text(3, sentences)


def test_reindex_targets_are_checked() -> None:
    rx = {"files": 1000, "one_file_share": 0.02, "watch_latency_seconds": 2.0, "watch_embed_seconds": 0.1, "watch_searchable": True}
    rows = {r["target"]: r for r in bench.target_checks({"reindex": rx})}
    assert rows["re-index 1 of 1,000 files / full build"]["met"] is True
    assert rows["watch: saved → searchable, minus embedding (s)"]["value"] == pytest.approx(1.9)


@pytest.mark.slow
def test_measure_reindex_small(tmp_path: Path) -> None:
    from qa.config import default_settings

    r = bench_reindex.measure_reindex(tmp_path, default_settings().backend, files=30)
    assert r["files"] == 30 and r["passages"] >= 30
    assert r["up_to_date_status"] == "up to date"
    changes = r["one_file_changes"]
    assert (changes["added"], changes["changed"], changes["removed"], changes["unchanged"]) == (0, 1, 0, 29)
    assert changes["incremental"] and changes["embedded"] >= 1 and changes["reused"] > 0
    assert r["watch_searchable"] and r["watch_error"] is None
    assert 0 < r["one_file_seconds"] < r["full_build_seconds"]
    assert not (tmp_path / "reindex-notes").exists() and not (tmp_path / "reindex-index").exists()
