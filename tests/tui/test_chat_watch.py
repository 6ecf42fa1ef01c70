"""`qa chat --watch` under Textual's Pilot: a file added while the chat runs is re-indexed in the
background, the status line and a notification say so, and the next question is answered from
the new index (real model, real FAISS, small corpus)."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest
from chat_helpers import ask, run_app, screen_text, wait_for
from conftest import write_corpus

from tui.app import QaApp

pytestmark = pytest.mark.slow

LLAMA = "Llamas of Cusco\n\nLlamas carry salt from the Maras terraces to the Cusco market every Saturday.\n"


def test_chat_watch_swaps_in_the_updated_index(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    app = QaApp(
        paths=[corpus], index_dir=tmp_path / "idx", watch=True, watch_options={"debounce_ms": 400, "step_ms": 100}, k=3
    )

    async def script(pilot) -> None:  # type: ignore[no-untyped-def]
        await wait_for(pilot, lambda: app.engine is not None and app._watching is not None, timeout=120)
        first = app.engine
        before = await ask(pilot, "What do llamas carry to the Cusco market?")
        assert before.answer is not None
        assert all(s.passage.path != "llama.txt" for s in before.answer.sources)
        assert "watching" in screen_text(app)

        await pilot.pause(0.5)  # the OS watch is in place
        (corpus / "llama.txt").write_text(LLAMA, encoding="utf-8")
        await wait_for(pilot, lambda: app.engine is not first, timeout=60)
        await wait_for(pilot, lambda: "index updated" in screen_text(app), timeout=10)
        assert "documents changed: 1 added" in screen_text(app)
        # the conversation keeps its turns and asks the new index: a follow-up still follows
        assert app.memory.engine is app.engine
        assert [t.question for t in app.memory.turns] == ["What do llamas carry to the Cusco market?"]
        follow_up = await ask(pilot, "And on which day?")
        assert follow_up.answer is not None and follow_up.answer.standalone_question is not None

        after = await ask(pilot, "What do llamas carry to the Cusco market?")
        assert after.answer is not None
        assert any(s.passage.path == "llama.txt" for s in after.answer.sources)

    run_app(app, script, size=(120, 30))


def test_chat_answers_from_the_old_index_while_the_new_one_builds(tmp_path: Path) -> None:
    """The re-index is held at its build lock (taken here, as a second `qa index` would): the chat
    keeps answering from the index it has, then swaps in the new one once the lock is free."""
    corpus = write_corpus(tmp_path / "corpus")
    target = tmp_path / "idx"
    app = QaApp(paths=[corpus], index_dir=target, watch=True, watch_options={"debounce_ms": 400, "step_ms": 100}, k=3)

    async def script(pilot) -> None:  # type: ignore[no-untyped-def]
        await wait_for(pilot, lambda: app.engine is not None and app._watching is not None, timeout=120)
        first = app.engine
        with open(tmp_path / ".idx.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            await pilot.pause(0.5)
            (corpus / "llama.txt").write_text(LLAMA, encoding="utf-8")
            await wait_for(pilot, lambda: "another qa index is building" in screen_text(app), timeout=60)
            during = await ask(pilot, "What do llamas carry to the Cusco market?")
            assert app.engine is first and during.answer is not None
            assert all(s.passage.path != "llama.txt" for s in during.answer.sources)
            fcntl.flock(lock, fcntl.LOCK_UN)
        await wait_for(pilot, lambda: app.engine is not first, timeout=60)
        after = await ask(pilot, "What do llamas carry to the Cusco market?")
        assert any(s.passage.path == "llama.txt" for s in after.answer.sources)

    run_app(app, script, size=(120, 30))
