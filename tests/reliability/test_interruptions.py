"""Interruptions of the real CLI in a subprocess: SIGKILL mid-build, Ctrl+C mid-batch, two
builds of one index at once.

Killing the builder inside the embedding and inside the final rename is already shown by
tests/test_index.py::test_killed_build_leaves_old_index_usable; torn batch lines by
tests/test_batch.py::test_done_ids_drops_a_torn_last_line. These tests interrupt whole `qa`
processes instead. The interruption points are events (the build lock is held, the first
rows are on disk), not sleeps, so the tests do not depend on machine speed.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from qa.config import IndexSettings
from qa.index.folder import build_index, load_index

pytestmark = pytest.mark.slow
QA = [sys.executable, "-m", "qa.cli"]
TIMEOUT = 300  # a hang guard only, never an assertion on speed


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from qa.cli import run

    code = run(argv)
    out, err = capsys.readouterr()
    return code, out, err


def lock_file(index_dir: Path) -> Path:
    return index_dir.parent / f".{index_dir.name}.lock"


def lock_is_held(index_dir: Path) -> bool:
    """Does another process hold the build lock of `index_dir` (qa.index.folder.build_lock)?"""
    path = lock_file(index_dir)
    if not path.exists():
        return False
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def wait_for(condition, proc: subprocess.Popen, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the process ended (code {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def leftovers(index_dir: Path) -> list[Path]:
    return sorted(index_dir.parent.glob(f".{index_dir.name}.tmp-*")) + sorted(index_dir.parent.glob(f".{index_dir.name}.old-*"))


def test_sigkill_during_qa_index_keeps_the_previous_index(small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "idx"
    old = build_index([small_corpus], target, IndexSettings())
    (small_corpus / "extra.txt").write_text("Quinoa grows well at altitude in the Andes.\n", encoding="utf-8")
    proc = subprocess.Popen([*QA, "index", str(small_corpus), "--index-dir", str(target), "--quiet"], cwd=ROOT, stderr=subprocess.PIPE)
    wait_for(lambda: lock_is_held(target), proc, "the build took its lock")
    proc.send_signal(signal.SIGKILL)  # mid-build: reading, loading the model or embedding
    proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == -signal.SIGKILL
    assert load_index(target).passages == old.passages, "the previous index still loads, unchanged"
    code, out, err = run_cli(["ask", "How many animals did the herd in Puno count?", "--index-dir", str(target), "--json"], capsys)
    assert code == 2 and "out of date" in err  # it answers only once it matches the corpus again...
    code, out, err = run_cli(["index", str(small_corpus), "--index-dir", str(target)], capsys)
    assert code == 0 and out.startswith("Indexed "), err  # ...and the next build is not blocked by debris
    assert any(p.path == "extra.txt" for p in load_index(target).passages)
    assert not leftovers(target)
    code, out, err = run_cli(["ask", "How many animals did the herd in Puno count?", "--index-dir", str(target), "--json"], capsys)
    assert code == 0 and json.loads(out)["answer"] == "340"


def test_ctrl_c_during_qa_batch_then_resume(small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "idx"
    build_index([small_corpus], target, IndexSettings())
    n = 120
    questions = tmp_path / "q.jsonl"
    templates = ["How many animals did the herd in Puno count?", "How high is the Misti summit?", "How long is the train journey?"]
    questions.write_text(
        "".join(json.dumps({"id": f"q{i:03d}", "question": f"{templates[i % 3]} ({i})"}) + "\n" for i in range(n)), encoding="utf-8"
    )
    out = tmp_path / "answers.jsonl"
    argv = ["batch", str(questions), "--out", str(out), "--index-dir", str(target)]
    # SIGINT back to its default in the child: a runner started in the background (nohup, `&`)
    # passes SIGINT ignored to its children, and Python then never raises KeyboardInterrupt
    proc = subprocess.Popen(
        [*QA, *argv], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)
    )
    wait_for(lambda: out.exists() and out.stat().st_size > 0, proc, "the first rows were written")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=TIMEOUT)
    err_text = err.decode()
    assert proc.returncode == 130, err_text
    assert err_text.strip().splitlines()[-1] == "qa: interrupted" and "Traceback" not in err_text
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    assert 0 < len(lines) < n, "interrupted part-way"
    assert all(line.endswith("\n") for line in lines)
    rows = [json.loads(line) for line in lines]  # every row written is a complete JSON line
    assert [r["id"] for r in rows] == [f"q{i:03d}" for i in range(len(rows))]

    code, _, err_resume = run_cli([*argv, "--resume"], capsys)
    assert code == 0, err_resume
    assert f"{len(rows)} skipped as already done" in err_resume
    final = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in final] == [f"q{i:03d}" for i in range(n)], "every question once, in order"
    assert final[: len(rows)] == rows


def test_two_qa_index_runs_on_one_dir_take_turns(small_corpus: Path, tmp_path: Path) -> None:
    """The test holds the build lock while starting both runs, so both really are concurrent."""
    target = tmp_path / "idx"
    target.parent.mkdir(parents=True, exist_ok=True)
    logs = [tmp_path / "a.err", tmp_path / "b.err"]
    with open(lock_file(target), "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        procs = []
        for log in logs:
            with log.open("wb") as fh:
                procs.append(
                    subprocess.Popen([*QA, "index", str(small_corpus), "--index-dir", str(target), "--quiet"], cwd=ROOT, stdout=subprocess.PIPE, stderr=fh)
                )
        for proc, log in zip(procs, logs, strict=True):
            wait_for(lambda log=log: "waiting for it to finish" in log.read_text(errors="replace"), proc, "the run saw the lock")
        fcntl.flock(held, fcntl.LOCK_UN)
    for proc in procs:
        proc.communicate(timeout=TIMEOUT)
    errs = [log.read_text(errors="replace") for log in logs]
    assert [p.returncode for p in procs] == [0, 0], errs
    assert all("Traceback" not in e for e in errs)
    index = load_index(target)  # checks passages, vectors, BM25 rows and manifest agree
    assert {p.path for p in index.passages} == {"alpaca.txt", "volcano.md", "sub/rail.txt"}
    assert not leftovers(target)
    assert os.listdir(target) and sorted(os.listdir(target)) == sorted(["manifest.json", "passages.jsonl", "vectors.faiss", "bm25"])
