"""`qa index --ray --json`: stdout is the JSON summary and nothing else (issue 37, item 12).

Ray's driver prints the raylet's error reports ("(raylet) A worker died or was killed …")
on stdout from a thread of its own, whatever log_to_driver says; a worker killed mid-build
(the build then completes on a restarted worker) or Ctrl+C put that coloured line in front
of the JSON. Each test runs `qa index --ray` as a real process (its own local Ray, one
worker) whose encoder is a deterministic stand-in that can die or stall on cue.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray")

from conftest import ROOT, write_corpus

pytestmark = pytest.mark.slow

# run as `python -c`: the stand-in encoder lives in __main__, which Ray pickles by value to its workers
SCRIPT = r"""
import os, sys, time, zlib
import numpy as np
import qa.index.distributed as d

MARKER, MODE = sys.argv[1], sys.argv[2]

class StandIn:
    name, backend, dim = "sentence-transformers/all-MiniLM-L6-v2", "onnx-int8", 384
    def encode(self, texts, batch_size=32, progress=None):
        if not os.path.exists(MARKER):
            open(MARKER, "w").write(str(os.getpid()))
            if MODE == "kill":
                os._exit(1)  # a real crash of the worker process: Ray restarts it
        if MODE == "stall":
            time.sleep(60)  # every batch: the build cannot finish before Ctrl+C
        rows = [np.random.default_rng(zlib.crc32(t.encode())).standard_normal(self.dim) for t in texts]
        out = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

def load():
    return StandIn()

real_init = d.RayEncoder.__init__
def init(self, *args, **kwargs):
    real_init(self, *args, **{**kwargs, "load": load})
d.RayEncoder.__init__ = init

from qa.cli import run
sys.exit(run(sys.argv[3:]))
"""


def qa_ray(tmp_path: Path, mode: str) -> subprocess.Popen[str]:
    corpus = write_corpus(tmp_path / "c")
    env = {**os.environ, "QA_RAY_BATCH": "1", "PYTHONPATH": str(ROOT)}
    env.pop("QA_DEBUG", None)
    argv = ["index", str(corpus), "--index-dir", str(tmp_path / "idx"), "--ray", "--workers", "1", "--json"]
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "marker"), mode, *argv],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group: Ctrl+C reaches qa and its Ray, as in a terminal
        # SIGINT back to its default: a runner started in the background (nohup …&, CI) passes it
        # ignored, and a Python started with SIGINT ignored never raises KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


# the machine may be loaded (CI runs the whole suite on 2 cores): starting a local Ray there has taken
# 40 s and more, so the deadlines are generous; they bound a hang, they are not a performance target
RAY_START_SECONDS = 600  # `qa index --ray` started → the worker is embedding (the marker is written)
FINISH_SECONDS = 600  # a whole build (with a worker restart), or Ctrl+C → the process has exited


def wait_for_marker(proc: subprocess.Popen[str], marker: Path) -> None:
    """Return once the stand-in encoder has written `marker`; fail (with qa's stderr) if qa ends or time runs out."""
    deadline = time.monotonic() + RAY_START_SECONDS
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"qa exited ({proc.returncode}) before a worker started embedding: {proc.communicate()[1]}")
        if time.monotonic() > deadline:
            pytest.fail(f"no worker started embedding within {RAY_START_SECONDS} s")
        time.sleep(0.2)


def finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """qa's (stdout, stderr) once it has exited; a hang fails the test with what qa said so far."""
    try:
        return proc.communicate(timeout=FINISH_SECONDS)
    except subprocess.TimeoutExpired:
        kill_all(proc)
        _, err = proc.communicate()
        pytest.fail(f"qa did not exit within {FINISH_SECONDS} s: {err}")


def kill_all(proc: subprocess.Popen[str]) -> None:
    """SIGKILL qa and every process of its session: its Ray's GCS and raylet share qa's process
    group, but Ray puts each worker in a group of its own, so killpg alone would leave them running."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    for pid in session_members(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()


def session_members(sid: int) -> list[int]:
    """Live processes whose session is `sid` (Linux /proc; none found elsewhere)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp session …
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[3]) == sid and fields[0] != "Z":  # a zombie is already dead
            members.append(int(stat.parent.name))
    return members


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """The qa processes a test starts; whatever happens, none of them (nor their Ray) outlives it."""
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        kill_all(proc)


def test_a_worker_killed_mid_build_leaves_stdout_pure_json(tmp_path: Path, started: list[subprocess.Popen[str]]) -> None:
    proc = qa_ray(tmp_path, "kill")
    started.append(proc)
    out, err = finish(proc)
    assert (tmp_path / "marker").exists(), "the worker really died once"
    assert proc.returncode == 0, err
    summary = json.loads(out)  # the whole of stdout: no "(raylet)" line in front
    assert summary["status"] == "built" and summary["ray"]["sent"] == summary["passages"], summary
    assert "\x1b" not in out
    assert "starting a local Ray (1 CPU)" in err, err  # was "(1 CPUs)"


def test_ctrl_c_during_a_ray_build_leaves_stdout_empty(tmp_path: Path, started: list[subprocess.Popen[str]]) -> None:
    proc = qa_ray(tmp_path, "stall")
    started.append(proc)
    wait_for_marker(proc, tmp_path / "marker")  # a worker is embedding (and stalls there until killed)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = finish(proc)
    assert proc.returncode != 0 and out == "", (out, err)
    assert not (tmp_path / "idx").exists()
