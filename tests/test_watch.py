"""Watching a corpus (qa.index.watch): file events → incremental re-index, in a thread and as
`qa index --watch` in a real subprocess stopped with Ctrl+C.

Short debounce, and every wait is bounded so a watcher that never reacts fails the test
instead of hanging CI.
"""

from __future__ import annotations

import json
import queue
import shutil
import time
from pathlib import Path

import pytest
from conftest import WatchRun, write_corpus

from qa.config import IndexSettings
from qa.index.folder import build_index, load_index
from qa.index.watch import EventFilter, Update, Watcher, start_in_thread

TIMEOUT = 60.0  # a hang guard only, never an assertion on speed


def test_event_filter_ignores_the_index_hidden_and_temp_files(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    index_dir = tmp_path / "idx"
    accepts = EventFilter([corpus], index_dir).accepts
    assert accepts(corpus / "notes.txt") and accepts(corpus / "sub" / "a.md")
    assert not accepts(corpus / ".hidden.txt") and not accepts(corpus / ".git" / "HEAD")
    assert not accepts(corpus / "notes.txt~") and not accepts(corpus / ".notes.txt.swp") and not accepts(corpus / "#a.txt#")
    assert not accepts(index_dir / "manifest.json") and not accepts(tmp_path / ".idx.lock")
    assert not accepts(tmp_path / ".idx.tmp-qa123" / "passages.jsonl") and not accepts(tmp_path / "elsewhere.txt")


def test_event_filter_for_a_single_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    accepts = EventFilter([tmp_path / "a.txt"], tmp_path / "idx").accepts
    assert accepts((tmp_path / "a.txt").resolve()) and not accepts((tmp_path / "b.txt").resolve())


def next_update(updates: queue.Queue[Update]) -> Update:
    try:
        return updates.get(timeout=TIMEOUT)
    except queue.Empty:
        raise AssertionError("the watcher did not re-index within the timeout") from None


@pytest.mark.slow
def test_watch_loop_picks_up_added_changed_and_removed_files(small_corpus: Path, tmp_path: Path) -> None:
    target = tmp_path / "idx"
    index = build_index([small_corpus], target, IndexSettings())
    updates: queue.Queue[Update] = queue.Queue()
    errors: list[BaseException] = []
    watcher = Watcher.for_index(index, debounce_ms=400, step_ms=100)
    running = start_in_thread(watcher, updates.put, errors.append)
    try:
        time.sleep(0.5)  # the OS watch is in place
        (small_corpus / "llama.txt").write_text("Llamas\n\nLlamas carry loads across the Andes.\n", encoding="utf-8")
        added = next_update(updates)
        assert added.error is None and (added.changes.added, added.changes.changed, added.changes.removed) == (1, 0, 0)
        assert added.changes.embedded == 1 and added.line().startswith("documents changed: 1 added · index updated")
        assert any("Llamas carry" in p.text for p in load_index(target).passages)

        (small_corpus / "llama.txt").write_text("Llamas\n\nLlamas graze near Lake Titicaca.\n", encoding="utf-8")
        changed = next_update(updates)
        assert (changed.changes.added, changed.changes.changed, changed.changes.removed) == (0, 1, 0)

        (small_corpus / ".scratch.txt").write_text("hidden: never read", encoding="utf-8")
        (small_corpus / "llama.txt").unlink()
        removed = next_update(updates)
        assert (removed.changes.added, removed.changes.changed, removed.changes.removed) == (0, 0, 1)
        assert not any(p.path == "llama.txt" for p in load_index(target).passages)
        time.sleep(1.0)
        assert updates.empty(), "the hidden file and the index's own writes trigger nothing"
    finally:
        running.stop()
    assert not errors


@pytest.mark.slow
def test_qa_index_watch_updates_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    target = tmp_path / "idx"
    run = WatchRun(corpus, target, "--json", timeout=TIMEOUT)
    try:
        (corpus / "llama.txt").write_text("Llamas\n\nLlamas carry loads across the Andes.\n", encoding="utf-8")
        update = None
        while update is None:
            assert time.monotonic() < run.deadline, "no update line: " + "".join(run.err_lines)
            try:
                line = run.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line.startswith("{") and '"changes"' in line and line.strip().endswith("}") and "status" in line:
                obj = json.loads(line)
                if obj.get("status") == "updated":
                    update = obj
        assert update["changes"]["added"] == 1 and update["changes"]["embedded"] == 1
        err = run.stop()
    finally:
        run.close()
    proc = run.proc
    assert proc.returncode == 0, err
    assert "stopped watching" in err and "Traceback" not in err
    assert any(p.path == "llama.txt" for p in load_index(target).passages)
    assert not list(tmp_path.glob(".idx.tmp-*"))


@pytest.mark.slow
def test_a_watched_folder_deleted_and_made_again_is_watched_again(tmp_path: Path) -> None:
    from conftest import SMALL_DOCS, write_corpus

    corpus = write_corpus(tmp_path / "w1", {"alpaca.txt": SMALL_DOCS["alpaca.txt"]})
    target = tmp_path / "idx"
    index = build_index([corpus], target, IndexSettings())
    updates: queue.Queue[Update] = queue.Queue()
    errors: list[BaseException] = []
    running = start_in_thread(Watcher.for_index(index, debounce_ms=300, step_ms=100), updates.put, errors.append)
    try:
        time.sleep(0.5)
        shutil.rmtree(corpus)
        gone = next_update(updates)
        assert gone.error is not None  # said, not crashed
        time.sleep(1.5)
        write_corpus(corpus, {"llama.txt": "Llamas\n\nLlamas carry loads across the Andes.\n"})
        deadline = time.monotonic() + 30
        while not any("Llamas carry" in p.text for p in load_index(target).passages):
            assert time.monotonic() < deadline, "the watcher did not pick up the folder made again"
            time.sleep(0.3)
    finally:
        running.stop()
    assert not errors
