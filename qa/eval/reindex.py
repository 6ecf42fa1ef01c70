"""The re-index benchmark of `qa bench`: full build against re-index after one changed file,
and how long a saved file takes to become searchable under a watcher.

The folder is generated (deterministic: the same seed gives the same bytes) from the bundled
corpus's sentences, many small files as a notes folder is, so the numbers measure what a
re-index does besides embedding — reading and cleaning every file, loading the old index,
rebuilding BM25 and FAISS, writing — against a full build that embeds everything.
"""

from __future__ import annotations

import queue
import random
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REINDEX_FILES = 1_000  # the size docs/performance.md reports
QUICK_REINDEX_FILES = 100
WATCH_SECONDS = 5.0  # target: a saved file is searchable within this (plus its embedding time)
REINDEX_SHARE = 0.05  # target: re-index after one changed file ≤ 5 % of the full build
_TIMEOUT = 120.0  # a hang guard for the watcher, never a measurement


def seed_sentences() -> list[str]:
    """Every sentence of the bundled corpus, in corpus order (the material of the generated files)."""
    from qa.config import DEFAULT_CORPUS
    from qa.documents.ingest import load_corpus
    from qa.documents.sentences import sentence_spans

    out: list[str] = []
    for doc in load_corpus([DEFAULT_CORPUS]).documents:
        for para in doc.text.split("\n\n"):
            out.extend(para[a:b].strip() for a, b in sentence_spans(para) if len(para[a:b].split()) >= 6)
    return out


def note_text(i: int, sentences: list[str], version: int = 0) -> str:
    """File number `i` (version 0, or an edit): a title and two short paragraphs of seed sentences."""
    rng = random.Random(i * 1_000 + version)
    picked = rng.sample(sentences, k=min(len(sentences), rng.randint(4, 8)))
    half = len(picked) // 2
    title = f"Note {i}" + (f", revised {version}" if version else "")
    return f"{title}\n\n{' '.join(picked[:half])}\n\n{' '.join(picked[half:])}\n"


def generate_folder(root: Path, n: int) -> Path:
    """`n` small notes under `root` (in ten sub-folders), the same bytes on every run."""
    sentences = seed_sentences()
    for i in range(n):
        path = root / f"part{i % 10}" / f"note{i:04d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(note_text(i, sentences), encoding="utf-8")
    return root


def measure_reindex(work: Path, backend: str, files: int = REINDEX_FILES, say: Any = None) -> dict[str, Any]:
    """Full build, no-change refresh, one-file re-index and watch latency on a generated folder."""
    from qa.answers.retrieve import Searcher
    from qa.config import default_settings
    from qa.index.folder import build_index
    from qa.index.refresh import refresh_index
    from qa.index.watch import Watcher, start_in_thread

    say = say or (lambda _m: None)
    settings = replace(default_settings(), backend=backend)
    folder, target = work / "reindex-notes", work / "reindex-index"
    shutil.rmtree(folder, ignore_errors=True)
    generate_folder(folder, files)
    sentences = seed_sentences()
    say(f"re-index: full build of {files:,} generated files")
    started = time.perf_counter()
    full = build_index([folder], target, settings, incremental=False)
    full_s = time.perf_counter() - started

    started = time.perf_counter()
    unchanged = refresh_index([folder], target, settings)
    unchanged_s = time.perf_counter() - started

    say("re-index: one file changed")
    changed_file = folder / "part3" / "note0003.txt"
    changed_file.write_text(note_text(3, sentences, version=1), encoding="utf-8")
    started = time.perf_counter()
    one = refresh_index([folder], target, settings)
    one_s = time.perf_counter() - started

    say("re-index: watch latency (a saved file until it is searchable)")
    watcher = Watcher(paths=[folder], index_dir=target, settings=settings)
    updates: queue.Queue[Any] = queue.Queue()
    errors: list[BaseException] = []
    running = start_in_thread(watcher, updates.put, errors.append)
    try:
        time.sleep(1.0)  # the OS watch is in place
        watched = folder / "part7" / "note0007.txt"
        saved = time.perf_counter()
        watched.write_text(note_text(7, sentences, version=2), encoding="utf-8")
        update = updates.get(timeout=_TIMEOUT)
        latency = time.perf_counter() - saved
    finally:
        running.stop()
    index = update.refresh.index if update.refresh else None
    found = bool(index) and any(
        h.passage.path == "part7/note0007.txt" for h in Searcher(index).search("Note 7, revised 2", k=3, retriever="bm25")
    )
    embed_s = float(update.refresh.manifest["timings"]["encode_seconds"]) if update.refresh else None
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    return {
        "files": files,
        "passages": len(full.passages),
        "full_build_seconds": round(full_s, 3),
        "full_encode_seconds": full.manifest["timings"]["encode_seconds"],
        "up_to_date_seconds": round(unchanged_s, 3),
        "up_to_date_status": unchanged.status,
        "one_file_seconds": round(one_s, 3),
        "one_file_share": round(one_s / max(full_s, 1e-9), 4),
        "one_file_changes": one.changes.to_json(),
        "watch_latency_seconds": round(latency, 3),
        "watch_debounce_ms": watcher.debounce_ms,
        "watch_step_ms": watcher.step_ms,
        "watch_embed_seconds": embed_s,
        "watch_searchable": found,
        "watch_error": (update.error if update else None) or (str(errors[0]) if errors else None),
    }
