"""Watching a corpus whose folders are swapped for symlinks (qa.index.watch), in the style of
tests/test_watch.py: a watcher thread with a short debounce, every wait bounded.

A link is followed as qa.documents.ingest follows it (inside the corpus, or anywhere with
--follow-links), so the watcher must see edits made where a followed link leads: a
subfolder replaced by a link was never looked at again (and Ctrl+C said "up to date"), and a
watched root replaced by a link (`mv c c_old; ln -s v2 c`) was indexed once, every later edit
ignored, because the event filter kept the old resolved root.
"""

from __future__ import annotations

import os
import queue
import shutil
import time
from pathlib import Path

import pytest
from conftest import SMALL_DOCS, WatchRun, write_corpus

from qa.config import IndexSettings
from qa.index.folder import build_index, load_index
from qa.index.watch import EventFilter, Update, Watcher, start_in_thread

TIMEOUT = 60.0  # a hang guard only, never an assertion on speed

pytestmark = pytest.mark.slow


def indexed_text(target: Path) -> str:
    return " ".join(p.text for p in load_index(target).passages)


def wait_until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"the watcher did not pick up {what}"
        time.sleep(0.3)


def watching(index, settings: IndexSettings | None = None):  # type: ignore[no-untyped-def]
    """A watcher thread on `index`: (running, updates, errors)."""
    updates: queue.Queue[Update] = queue.Queue()
    errors: list[BaseException] = []
    watcher = Watcher.for_index(index, debounce_ms=300, step_ms=100)
    running = start_in_thread(watcher, updates.put, errors.append)
    time.sleep(0.8)  # the OS watch is in place
    return running, updates, errors


@pytest.mark.parametrize("where", ["inside", "outside"])
def test_a_subfolder_replaced_by_a_link_is_watched_where_it_leads(tmp_path: Path, where: str) -> None:
    """inside: the folder moved to a hidden folder of the corpus and linked back (followed by
    default); outside: moved out of the corpus and linked back, the index built --follow-links."""
    corpus = write_corpus(tmp_path / "c")
    follow = where == "outside"
    target = tmp_path / "idx"
    index = build_index([corpus], target, IndexSettings(follow_links=follow))
    home = corpus / ".shelf" if where == "inside" else tmp_path / "elsewhere"
    home.mkdir()
    running, _, errors = watching(index)
    try:
        shutil.move(corpus / "sub", home / "sub")
        os.symlink(home / "sub", corpus / "sub")
        time.sleep(1.5)  # the swap itself changes nothing the index holds
        (corpus / "sub" / "rail.txt").write_text("The Andean railway\n\nThe night train to Puno now stops at Juliaca.\n", encoding="utf-8")
        wait_until(lambda: "stops at Juliaca" in indexed_text(target), "an edit inside the linked folder")
        (home / "sub" / "bus.txt").write_text("Buses\n\nThe bus from Cusco to Puno leaves at dawn.\n", encoding="utf-8")
        wait_until(lambda: "leaves at dawn" in indexed_text(target), "a file added where the link leads")
    finally:
        running.stop()
    assert not errors


def test_a_watched_root_replaced_by_a_link_is_watched_where_it_now_leads(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c", {"alpaca.txt": SMALL_DOCS["alpaca.txt"]})
    v2 = write_corpus(tmp_path / "v2", {"volcano.md": SMALL_DOCS["volcano.md"]})
    target = tmp_path / "idx"
    index = build_index([corpus], target, IndexSettings())
    running, _, errors = watching(index)
    try:
        corpus.rename(tmp_path / "c_old")
        os.symlink("v2", corpus)
        wait_until(lambda: "stratovolcano" in indexed_text(target), "the switch of the root")
        time.sleep(1.5)
        (v2 / "llama.txt").write_text("Llamas\n\nLlamas carry loads across the Andes.\n", encoding="utf-8")
        wait_until(lambda: "Llamas carry" in indexed_text(target), "an edit after the switch")
        (corpus / "volcano.md").write_text("# Misti\n\nMisti last erupted in 1985 and is watched by the observatory.\n", encoding="utf-8")
        wait_until(lambda: "watched by the observatory" in indexed_text(target), "a second edit after the switch")
    finally:
        running.stop()
    assert not errors


def test_event_filter_accepts_where_followed_links_lead(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c")
    (corpus / ".shelf" / "sub").mkdir(parents=True)
    os.symlink(".shelf/sub", corpus / "linked")
    accepts = EventFilter([corpus], tmp_path / "idx", linked=[(corpus / ".shelf" / "sub").resolve()]).accepts
    assert accepts((corpus / ".shelf" / "sub" / "a.txt").resolve())
    assert not accepts((corpus / ".shelf" / "b.txt").resolve())  # the hidden folder itself is still not read
    assert not accepts((corpus / ".shelf" / "sub" / ".hidden.txt").resolve())


@pytest.mark.parametrize("edited", [False, True])
def test_ctrl_c_says_whether_the_index_is_up_to_date(tmp_path: Path, edited: bool) -> None:
    """"up to date" only when the corpus matches the index when the user stops: an edit made
    just before Ctrl+C (inside the debounce, so not yet indexed) is said to be pending."""
    corpus = write_corpus(tmp_path / "c")
    target = tmp_path / "idx"
    run = WatchRun(corpus, target, timeout=TIMEOUT)
    try:
        if edited:
            (corpus / "alpaca.txt").write_text("Alpacas\n\nThe herd in Puno now counts 400 animals.\n", encoding="utf-8")
        err = run.stop()
    finally:
        run.close()
    proc = run.proc
    assert proc.returncode == 0, err
    if edited:
        assert "stopped watching; the index is out of date (the documents changed since it was built)" in err, err
        assert f"qa index {corpus}" in err
    else:
        assert "stopped watching; the index is up to date" in err, err
