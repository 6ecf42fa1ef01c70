"""The prompt's history (Up/Down), help, clear, copy and export (only the last loads the model)."""

from __future__ import annotations

import json
import threading

import pytest
from chat_helpers import HeldEngine, run_app

from tui.app import QaApp
from tui.widgets.conversation import AnswerBubble, QuestionBubble
from tui.widgets.help import HelpScreen
from tui.widgets.prompt import Prompt


def _never_ready():
    """An engine factory that never finishes: questions stay queued, nothing is computed."""
    gate = threading.Event()

    def factory(progress, notify):
        gate.wait(30)
        raise RuntimeError("closed")

    return factory


async def _submit(pilot, text: str) -> None:
    pilot.app.query_one(Prompt).value = text
    await pilot.press("enter")
    await pilot.pause()


def test_up_down_walk_the_history_and_keep_the_draft():
    async def script(pilot):
        prompt = pilot.app.query_one(Prompt)
        for q in ("first question", "second question"):
            await _submit(pilot, q)
        await pilot.press(*"draft")
        seen = []
        for key in ("up", "up", "up", "down", "down", "down"):
            await pilot.press(key)
            seen.append(prompt.value)
        return seen, prompt.history

    seen, history = run_app(QaApp(engine_factory=_never_ready()), script)
    assert history == ["first question", "second question"]
    assert seen == ["second question", "first question", "first question", "second question", "draft", "draft"]


def test_blank_question_is_ignored_and_question_mark_types_into_the_prompt():
    async def script(pilot):
        await _submit(pilot, "   ")
        await pilot.press(*"why?")
        return len(pilot.app.query(QuestionBubble)), pilot.app.query_one(Prompt).value, pilot.app.screen

    bubbles, value, screen = run_app(QaApp(engine_factory=_never_ready()), script)
    assert bubbles == 0 and value == "why?" and not isinstance(screen, HelpScreen)


def test_f1_opens_help_and_escape_closes_it():
    async def script(pilot):
        await pilot.press("f1")
        opened = isinstance(pilot.app.screen, HelpScreen)
        await pilot.press("escape")
        return opened, isinstance(pilot.app.screen, HelpScreen)

    assert run_app(QaApp(engine_factory=_never_ready()), script) == (True, False)


def test_clear_removes_the_conversation():
    async def script(pilot):
        await _submit(pilot, "a question")
        before = len(pilot.app.query(AnswerBubble))
        await pilot.press("ctrl+l")
        await pilot.pause()
        return before, len(pilot.app.query(AnswerBubble)), len(pilot.app.query("#welcome")), list(pilot.app.queue)

    before, after, welcome, queue = run_app(QaApp(engine_factory=_never_ready()), script)
    assert (before, after, welcome, queue) == (1, 0, 1, [])


@pytest.mark.slow
def test_copy_and_export_with_answers(seeds_engine, tmp_path, monkeypatch):
    from chat_helpers import ask

    monkeypatch.chdir(tmp_path)
    copied: list[str] = []

    async def script(pilot):
        app = pilot.app
        app.copy_to_clipboard = copied.append  # the terminal clipboard is not observable headless
        await ask(pilot, "How many people died in the protests?")
        await ask(pilot, "What is the boiling point of mercury?")
        await pilot.click(AnswerBubble)
        await pilot.press("f3", "f4", "f5")
        await pilot.pause()
        return [b.answer for b in app.turns]

    answers = run_app(QaApp(engine=seeds_engine), script, size=(100, 40))
    top = answers[0].sources[0]
    assert len(copied) == 1 and answers[0].text in copied[0] and top.location in copied[0]
    md = list(tmp_path.glob("qa-chat-*.md"))
    jsonl = list(tmp_path.glob("qa-chat-*.jsonl"))
    assert len(md) == 1 and len(jsonl) == 1
    rows = [json.loads(line) for line in jsonl[0].read_text().splitlines()]
    assert [r["question"] for r in rows] == [a.question for a in answers]
    assert rows[1]["abstained"] is True
    text = md[0].read_text()
    assert "## How many people died in the protests?" in text and top.location in text
    assert "Not found in the sources." in text


@pytest.mark.slow
def test_export_notice_names_the_full_path_written(seeds_engine, tmp_path, monkeypatch):
    """F4 writes into the current folder; the notice says where, as a full path (issue 35)."""
    from chat_helpers import ask, recorded_app, screen_text

    monkeypatch.chdir(tmp_path)

    async def script(pilot):
        app = pilot.app
        said: list[str] = []
        notify = app.notify
        app.notify = lambda message, **kw: (said.append(message), notify(message, **kw))[1]
        await ask(pilot, "How many people died in the protests?")
        await pilot.press("f4")
        await pilot.pause(0.5)  # the toast slides in
        return said, screen_text(app)

    said, text = run_app(recorded_app(seeds_engine), script, size=(160, 40), notifications=True)
    (written,) = list(tmp_path.glob("qa-chat-*.md"))
    notice = next(m for m in said if m.startswith("Exported"))
    assert str(written.absolute()) in notice and written.is_file()
    assert written.name in "".join(text.split())  # on screen, however the toast wraps it


def test_export_with_the_current_folder_gone_is_a_notice_not_a_crash(tmp_path, monkeypatch):
    """A chat started in a folder deleted since: F4 says it cannot write, and the app goes on."""
    from types import SimpleNamespace

    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    said: list[tuple[str, str]] = []
    app = SimpleNamespace(turns=[SimpleNamespace(answer=object())], notify=lambda msg, **kw: said.append((msg, kw.get("severity", ""))))
    monkeypatch.setattr("tui.app.transcript_markdown", lambda answers: "text\n")
    QaApp.action_export(app, "md")  # type: ignore[arg-type]
    assert len(said) == 1 and said[0][1] == "error" and "Could not write" in said[0][0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_clear_while_an_answer_is_computed(seeds_engine):
    release = threading.Event()

    async def script(pilot):
        from chat_helpers import wait_for

        app = pilot.app
        await _submit(pilot, "How many people died in the protests?")
        await _submit(pilot, "What is the boiling point of mercury?")  # queued behind the first
        await pilot.press("ctrl+l")
        await pilot.pause()
        release.set()
        await wait_for(pilot, lambda: not app.busy)
        await _submit(pilot, "Who is the president of Peru?")
        await wait_for(pilot, lambda: app.turns and app.turns[-1].answer is not None)
        return [b.question for b in app.query(AnswerBubble)], app.is_running

    questions, running = run_app(QaApp(engine=HeldEngine(seeds_engine, release)), script)
    assert questions == ["Who is the president of Peru?"] and running
