"""`qa index --ray --json`: stdout is the JSON summary and nothing else (issue 37, item 12).

Ray's driver prints the raylet's error reports ("(raylet) A worker died or was killed …")
on stdout from a thread of its own, whatever log_to_driver says; a worker killed mid-build
(the build then completes on a restarted worker) or Ctrl+C put that coloured line in front
of the JSON. Each test runs `qa index --ray` as a real process (its own local Ray, one
worker) whose encoder is a deterministic stand-in that can die or stall on cue.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")

from conftest import ROOT, write_corpus

pytestmark = pytest.mark.slow

# run as `python -c`: the stand-in encoder lives in __main__, which Ray pickles by value to its workers
SCRIPT = r"""
import os, sys, time, zlib
import numpy as np
import qa.distributed as d

MARKER, MODE = sys.argv[1], sys.argv[2]

class StandIn:
    name, backend, dim = "sentence-transformers/all-MiniLM-L6-v2", "onnx-int8", 384
    def encode(self, texts, batch_size=32, progress=None):
        if not os.path.exists(MARKER):
            open(MARKER, "w").write(str(os.getpid()))
            if MODE == "kill":
                os._exit(1)  # a real crash of the worker process: Ray restarts it
        if MODE == "stall":
            time.sleep(60)
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
    )


def test_a_worker_killed_mid_build_leaves_stdout_pure_json(tmp_path: Path) -> None:
    proc = qa_ray(tmp_path, "kill")
    out, err = proc.communicate(timeout=300)
    assert (tmp_path / "marker").exists(), "the worker really died once"
    assert proc.returncode == 0, err
    summary = json.loads(out)  # the whole of stdout: no "(raylet)" line in front
    assert summary["status"] == "built" and summary["ray"]["sent"] == summary["passages"], summary
    assert "\x1b" not in out
    assert "starting a local Ray (1 CPU)" in err, err  # was "(1 CPUs)"


def test_ctrl_c_during_a_ray_build_leaves_stdout_empty(tmp_path: Path) -> None:
    proc = qa_ray(tmp_path, "stall")
    deadline = time.monotonic() + 240
    while not (tmp_path / "marker").exists():  # a worker is embedding
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
        time.sleep(0.2)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and out == "", (out, err)
    assert not (tmp_path / "idx").exists()
