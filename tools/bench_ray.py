"""Single-process build vs `qa index --ray` (local Ray, 1 and 2 workers) on this machine, in one run.

    nice -n 15 .venv/bin/python tools/bench_ray.py [--copies 20] [--rounds 1] [--json out.json]

The corpus is `--copies` copies of the bundled seeds in a temp folder, every line of copy k tagged
" (k)" so no two copies share a passage (and cleaning keeps them all): 20 copies ≈ 2,300 passages.
Each configuration is a fresh `qa index --force --json` process, as a user runs it (imports, model
load, reading, embedding, writing), and the configurations alternate within each round, so all see
the same machine state:

    single      the normal build: one process, one encoder using every core (ONNX threads = cores)
    ray-1x2     --ray --workers 1, the worker's encoder with 2 threads (QA_RAY_THREADS=2)
    ray-2x1     --ray --workers 2, 1 thread each (the default: one worker per core)

Reported per run: build seconds and passages/s (end to end: imports, model load, Ray start-up,
reading, embedding, writing); the embedding rate (single: the manifest's passages_per_second, the
encoder's own time; Ray: passages / (last batch done − first batch started) on the workers, so
Ray and actor start-up are left out, and reported apart); the per-worker rate (passages per
busy second of one worker); and each Ray figure as a ratio to the single build of the same round.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.eval.speed import machine

CONFIGS: dict[str, tuple[list[str], dict[str, str]]] = {
    "single": ([], {}),
    "ray-1x2": (["--ray", "--workers", "1"], {"QA_RAY_THREADS": "2"}),
    "ray-2x1": (["--ray", "--workers", "2"], {"QA_RAY_THREADS": "1"}),
}


def make_corpus(folder: Path, copies: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(copies):
        for f in sorted((ROOT / "seeds").glob("*.txt")):
            lines = f.read_text(encoding="utf-8").splitlines()
            tagged = [f"{line} ({k})" if line.strip() else line for line in lines]
            (folder / f"c{k:03d}_{f.name}").write_text("\n".join(tagged) + "\n", encoding="utf-8")
    return folder


def run_one(name: str, corpus: Path, work: Path) -> dict[str, Any]:
    args, env_extra = CONFIGS[name]
    index_dir = work / f"index-{name}"
    env = {**os.environ, "QA_HOME": str(work / "home"), **env_extra}
    cmd = [sys.executable, "-m", "qa", "index", str(corpus), "--index-dir", str(index_dir), "--force", "--json", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{name} failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    summary = json.loads(out.stdout)
    passages = int(summary["passages"])
    row: dict[str, Any] = {
        "config": name,
        "passages": passages,
        "build_seconds": summary["seconds"],
        "build_rate": round(passages / summary["seconds"], 2),
    }
    ray = summary.get("ray")
    if ray:
        row.update(
            workers=ray["workers"],
            ray_start_seconds=ray.get("start_seconds"),
            actors_start_seconds=ray.get("actors_start_seconds"),  # pipeline submitted → first batch begun on a worker
            embed_seconds=ray.get("seconds"),  # includes starting Ray and the actors
            pool_seconds=ray.get("pool_seconds"),  # first batch started → last batch done, on the workers
            embed_rate=ray.get("pool_rate"),
            per_worker_rate=ray.get("worker_rate"),  # passages per busy second of one worker
        )
    else:
        manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
        rate = manifest["timings"]["passages_per_second"]
        row.update(workers=1, embed_seconds=manifest["timings"]["encode_seconds"], embed_rate=rate, per_worker_rate=rate)
    shutil.rmtree(index_dir, ignore_errors=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qa-bench-ray-"))
    rows: list[dict[str, Any]] = []
    try:
        corpus = make_corpus(work / "corpus", args.copies)
        for r in range(args.rounds):
            base: dict[str, Any] | None = None
            for name in args.configs:
                row = {"round": r + 1, **run_one(name, corpus, work)}
                if name == "single":
                    base = row
                elif base:
                    row["build_ratio"] = round(row["build_rate"] / base["build_rate"], 3)
                    if row.get("embed_rate") and base.get("embed_rate"):
                        row["embed_ratio"] = round(row["embed_rate"] / base["embed_rate"], 3)
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = {"machine": machine(), "copies": args.copies, "runs": rows}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
