"""`qa index --ray`: embedding on Ray gives the index a single-process build gives, and survives faults.

Quick tests need no Ray cluster: ray is not imported by a cold start, bad options and an
unreachable address are one line with the existing index untouched, and the partial folder
(resume) keeps and refuses what it should. Slow tests start one local Ray for the module (2
CPUs): a `--ray` build with 2 workers and small batches equals the single-process build
(passages byte for byte, vectors within 1e-5, same top-k); a worker process killed mid-build
(os._exit in the actor, once, via a marker file) is restarted and the build completes; an
encoder failing on every try ends the build with one line, keeps the finished vectors, and
the next run embeds only the rest.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("ray")

from conftest import ROOT, SEEDS, run_cli

from qa.config import default_settings
from qa.errors import QAError
from qa.index.distributed import PartialCache, RayEncoder, partial_dir_for
from qa.index.folder import PASSAGES, build_index, index_text, load_index

# Ray Data's own DataContext fields warn of their deprecation when it is copied to the workers
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")
SETTINGS = default_settings()
QUESTIONS = [
    "How many people were killed in the protests?",
    "Who became president after Castillo was removed?",
    "Which airport was closed?",
    "What did the protesters demand?",
]


class HashEncoder:
    """Deterministic unit vectors from each text's CRC: a stand-in for the model where only the plumbing is tested."""

    name = SETTINGS.model
    backend = SETTINGS.backend
    dim = 384
    batch_size = 8

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: Any = None) -> np.ndarray:
        rows = [np.random.default_rng(zlib.crc32(t.encode())).standard_normal(self.dim) for t in texts]
        out = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class KillingEncoder(HashEncoder):
    """HashEncoder whose process dies (os._exit) on the batch holding `text`, the first time only."""

    def __init__(self, text: str, marker: str) -> None:
        self.text, self.marker = text, marker

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: Any = None) -> np.ndarray:
        if self.text in texts and not os.path.exists(self.marker):
            Path(self.marker).write_text(str(os.getpid()), encoding="utf-8")
            os._exit(1)  # a real crash of the worker process, not an exception
        return super().encode(texts, batch_size, progress)


class FailingEncoder(HashEncoder):
    """HashEncoder that raises on the batch holding `text`, every time (after a pause, so finished batches reach the driver)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: Any = None) -> np.ndarray:
        if self.text in texts:
            time.sleep(2.0)
            raise RuntimeError("encoder broke on this batch")
        return super().encode(texts, batch_size, progress)


def make_hash() -> HashEncoder:
    return HashEncoder()


def make_killer(text: str, marker: str) -> Any:
    return lambda: KillingEncoder(text, marker)


def make_failing(text: str) -> Any:
    return lambda: FailingEncoder(text)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- quick: no Ray cluster


def test_cold_start_does_not_import_ray() -> None:
    code = "import sys, qa.cli, qa.commands.index, qa.index.folder, qa.index.incremental, qa.index.distributed; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
    helped = subprocess.run([sys.executable, "-m", "qa", "index", "--help"], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "--ray [ADDRESS]" in helped.stdout and "--workers" in helped.stdout


def test_bad_ray_options_are_one_line(small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, says in (
        ([str(small_corpus), "--ray", "no-such-thing"], "not a Ray address"),
        ([str(small_corpus), "--ray", "--watch"], "--ray and --watch do not go together"),
        ([str(small_corpus), "--workers", "2"], "--workers needs --ray"),
    ):
        code, _, err = run_cli(["index", *argv, "--index-dir", str(tmp_path / "i")], capsys)
        assert code == 2 and says in err, (argv, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "i").exists()


def test_unreachable_address_leaves_the_index_untouched(small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index_dir = tmp_path / "index"
    build_index([small_corpus], index_dir, SETTINGS, encoder=HashEncoder())
    before = snapshot(index_dir)
    for address in (f"ray://127.0.0.1:{closed_port()}", f"127.0.0.1:{closed_port()}"):
        started = time.perf_counter()
        code, out, err = run_cli(["index", str(small_corpus), "--index-dir", str(index_dir), "--force", "--ray", address], capsys)
        assert code == 2, err
        assert f"cannot reach the Ray cluster at {address}" in err and "ray start --head" in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and not out
        assert time.perf_counter() - started < 30, "an unreachable address is told at once, not after Ray's own timeouts"
    assert snapshot(index_dir) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["corpus", "index", ".index.lock"]), "no temp or partial folders left"


def test_ray_alone_before_a_path_takes_it_as_the_path(small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    address = f"127.0.0.1:{closed_port()}"
    monkeypatch.setenv("QA_RAY_ADDRESS", address)  # what --ray alone joins
    code, _, err = run_cli(["index", "--ray", str(small_corpus), "--index-dir", str(tmp_path / "i")], capsys)
    assert code == 2 and f"cannot reach the Ray cluster at {address}" in err, err
    assert not (tmp_path / "i").exists()


def test_a_cluster_gone_mid_build_is_one_line_and_keeps_the_finished_vectors(tmp_path: Path) -> None:
    """The watchdog of the CLI's RayEncoder, against a GCS address where nothing answers (no Ray needed)."""
    partial = tmp_path / ".index.ray-partial"
    script = f"""
import threading, time, numpy as np
import qa.index.distributed as d
d.WATCH_SECONDS = 0.2
enc = d.RayEncoder("m", "b", address="10.0.0.1:6379", partial={str(partial)!r}, exit_on_loss=True)
cache = d.PartialCache(enc.partial, "m", "b")
cache.add([bytes([i]) * 32 for i in range(3)], np.ones((3, 4), np.float32))  # received, not yet flushed
enc._watch("127.0.0.1:{closed_port()}", cache, threading.Event())
time.sleep(30)
print("still running")
"""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 2 and not out.stdout and time.perf_counter() - started < 25
    err = out.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("qa: error: the Ray build failed: the Ray cluster at 10.0.0.1:6379 went away mid-build")
    assert "3 finished vectors are kept" in err and "run the same command again" in err
    assert len(PartialCache(partial, "m", "b").load()) == 3


def test_partial_cache_round_trip_and_refusals(tmp_path: Path) -> None:
    folder = partial_dir_for(tmp_path / "index")
    assert folder == tmp_path / ".index.ray-partial"
    keys = [bytes([i]) * 32 for i in range(5)] + [b"\x01" * 31 + b"\x00"]  # a digest ending in NUL survives
    vectors = np.arange(6 * 4, dtype=np.float32).reshape(6, 4)
    cache = PartialCache(folder, "m", "b")
    assert cache.load() == {}
    cache.add(keys[:3], vectors[:3])
    cache.flush()
    cache.add(keys[3:], vectors[3:])
    cache.flush()
    loaded = PartialCache(folder, "m", "b").load()
    assert set(loaded) == set(keys) and all(np.array_equal(loaded[k], vectors[i]) for i, k in enumerate(keys))
    (folder / "part-00000000000000000000-1.npz").write_bytes(b"cut short")  # a part a crash cut short is skipped
    assert len(PartialCache(folder, "m", "b").load()) == 6
    assert PartialCache(folder, "other-model", "b").load() == {} and not folder.exists(), "another model's vectors are dropped"

    mine = tmp_path / ".mine.ray-partial"
    mine.mkdir()
    (mine / "thesis.txt").write_text("mine", encoding="utf-8")
    foreign = PartialCache(mine, "m", "b")
    assert foreign.load() == {}
    foreign.add(keys, vectors)
    foreign.flush()
    foreign.remove()
    assert sorted(os.listdir(mine)) == ["thesis.txt"], "a folder holding anything else is neither used nor removed"


# ---------------------------------------------------------------- slow: one local Ray for the module


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    import ray
    from ray import cloudpickle

    from qa.index.distributed import _quiet_env

    _quiet_env()
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    started = not ray.is_initialized()
    if started:
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                 object_store_memory=256 * 2**20)
    yield
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def seeds_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    root = tmp_path_factory.mktemp("ray")
    shutil.copytree(SEEDS, root / "seeds")
    return root / "seeds"


@pytest.mark.slow
def test_ray_build_equals_single_process(local_ray: None, seeds_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.answers.retrieve import Searcher

    single = build_index([seeds_copy], tmp_path / "single", SETTINGS, incremental=False)
    monkeypatch.setenv("QA_RAY_BATCH", "8")  # 112 passages: 14 batches over the 2 workers
    code, out, err = run_cli(["index", str(seeds_copy), "--index-dir", str(tmp_path / "ray"), "--ray", "--workers", "2", "--json"], capsys)
    assert code == 0, err
    import json

    summary = json.loads(out)
    assert summary["ray"]["workers"] == 2 and summary["ray"]["sent"] == len(single.passages) == summary["passages"]
    assert (tmp_path / "ray" / PASSAGES).read_bytes() == (tmp_path / "single" / PASSAGES).read_bytes()
    ray_index = load_index(tmp_path / "ray")
    assert np.allclose(ray_index.all_vectors(), single.all_vectors(), atol=1e-5)
    assert {k: ray_index.manifest[k] for k in ("model", "backend", "dimension", "chunk", "counts")} == {
        k: single.manifest[k] for k in ("model", "backend", "dimension", "chunk", "counts")
    }
    for retriever in ("dense", "hybrid"):
        a, b = Searcher(ray_index), Searcher(single)
        for q in QUESTIONS:
            assert [h.passage.pid for h in a.search(q, k=5, retriever=retriever)] == [h.passage.pid for h in b.search(q, k=5, retriever=retriever)]
    assert not partial_dir_for(tmp_path / "ray").exists(), "the partial folder goes once every vector is in"


@pytest.mark.slow
def test_a_worker_killed_mid_build_is_restarted(local_ray: None, small_corpus: Path, tmp_path: Path) -> None:
    reference = build_index([small_corpus], tmp_path / "ref", SETTINGS, encoder=HashEncoder())
    victim = index_text(reference.passages[-1])
    marker = tmp_path / "killed"
    encoder = RayEncoder(SETTINGS.model, SETTINGS.backend, workers=2, batch_size=1, partial=partial_dir_for(tmp_path / "ray"),
                         load=make_killer(victim, str(marker)))
    built = build_index([small_corpus], tmp_path / "ray", SETTINGS, encoder=encoder)
    assert marker.exists(), "the worker really died once"
    assert encoder.stats["sent"] == len(reference.passages)
    assert np.array_equal(built.all_vectors(), reference.all_vectors())
    assert (tmp_path / "ray" / PASSAGES).read_bytes() == (tmp_path / "ref" / PASSAGES).read_bytes()


@pytest.mark.slow
def test_a_failed_build_keeps_its_vectors_and_the_next_run_resumes(local_ray: None, seeds_copy: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    reference = build_index([seeds_copy], index_dir, SETTINGS, encoder=HashEncoder())
    before = snapshot(index_dir)
    texts = [index_text(p) for p in reference.passages]
    shortest = min(texts, key=len)  # sent last (longest first): the other batches finish before it fails
    partial = partial_dir_for(index_dir)

    failing = RayEncoder(SETTINGS.model, SETTINGS.backend, workers=2, batch_size=8, partial=partial, load=make_failing(shortest))
    with pytest.raises(QAError) as failed:
        build_index([seeds_copy], index_dir, SETTINGS, incremental=False, encoder=failing)
    message = str(failed.value)
    assert "the Ray build failed" in message and "encoder broke on this batch" in message and "the index was not changed" in message
    assert "\n" not in message and "Traceback" not in message
    assert snapshot(index_dir) == before, "the existing index is untouched"
    saved = PartialCache(partial, SETTINGS.model, SETTINGS.backend).load()
    assert 0 < len(saved) < len(texts) and f"{len(saved):,} finished vectors are kept" in message

    resumed = RayEncoder(SETTINGS.model, SETTINGS.backend, workers=2, batch_size=8, partial=partial, load=make_hash)
    built = build_index([seeds_copy], index_dir, SETTINGS, incremental=False, encoder=resumed)
    assert resumed.stats["resumed"] == len(saved) and resumed.stats["sent"] == len(texts) - len(saved)
    assert np.array_equal(built.all_vectors(), reference.all_vectors())
    assert not partial.exists()


@pytest.mark.slow
def test_ray_build_into_qdrant_holds_the_same_vectors(local_ray: None, small_corpus: Path, tmp_path: Path) -> None:
    pytest.importorskip("qdrant_client")
    from qa.index.vectors import StoreSpec
    from qa.index.vectors.qdrant_index import build, local_home, target_for

    plain = build([small_corpus], target_for(StoreSpec("qdrant"), [small_corpus], tmp_path / "plain"), SETTINGS, encoder=HashEncoder())
    target = target_for(StoreSpec("qdrant"), [small_corpus], tmp_path / "ray")
    encoder = RayEncoder(SETTINGS.model, SETTINGS.backend, workers=2, partial=partial_dir_for(local_home(target)), load=make_hash)
    on_ray = build([small_corpus], target, SETTINGS, encoder=encoder)
    try:
        assert encoder.stats["sent"] == plain.size == on_ray.size
        assert [p.to_json() for p in on_ray.passages] == [p.to_json() for p in plain.passages]
        a, b = on_ray.vectors_by_text(), plain.vectors_by_text()
        assert a.keys() == b.keys() and all(np.array_equal(a[t], b[t]) for t in a)
        assert on_ray.manifest["counts"] == plain.manifest["counts"]
    finally:
        on_ray.close()
        plain.close()
