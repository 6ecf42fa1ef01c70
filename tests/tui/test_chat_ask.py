"""Asking: answers with their sources, the not-found style, conflicts, the queue before ready."""

from __future__ import annotations

import threading

import pytest
from chat_helpers import HeldEngine, ask, run_app, screen_text, wait_for

from tui.app import QaApp
from tui.widgets.conversation import QuestionBubble
from tui.widgets.sources import SourceItem, SourcesPanel

pytestmark = pytest.mark.slow


def test_answer_and_sources_appear(seeds_engine):
    async def script(pilot):
        bubble = await ask(pilot, "How many people died in the protests?")
        items = list(pilot.app.query(SourceItem))
        return bubble, items, screen_text(pilot.app)

    bubble, items, text = run_app(QaApp(engine=seeds_engine), script)
    answer = bubble.answer
    assert answer is not None and not answer.abstained
    assert bubble.has_class("-found") and not bubble.has_class("-abstained")
    # the answer bubble shows the answer, its confidence and where it stands
    assert answer.text in text
    assert answer.sources[0].location in text
    assert "high" in text or "medium" in text or "low" in text
    # the sources panel lists every source of the selected answer, the first being the answer's
    assert items and items[0].source == answer.sources[0]
    assert len(items) >= len(answer.sources)


def test_conflict_shows_each_answer_with_its_location(tmp_path):
    """Two documents that give different death tolls (a corpus made here, so the test does not
    hang on what the reader makes of the seeds)."""
    from conftest import write_corpus
    from qa.engine import Engine
    from test_answer import TOLLS

    engine = Engine.open([write_corpus(tmp_path / "c", TOLLS)], tmp_path / "idx", build_missing=True)
    question = "How many people died in the protests?"
    answer = engine.ask(question)
    assert answer.conflicts, "the two documents give different tolls; this test needs a conflict"

    async def script(pilot):
        bubble = await ask(pilot, question)
        return bubble, screen_text(pilot.app)

    bubble, text = run_app(QaApp(engine=engine), script, size=(120, 50))
    assert bubble.has_class("-conflict")
    assert "Sources disagree" in text
    for cand in bubble.answer.conflicts:
        assert f"• {cand.text} " in text
        assert cand.sources[0].location in text


def test_off_topic_question_is_not_found(seeds_engine):
    async def script(pilot):
        bubble = await ask(pilot, "What is the boiling point of mercury?")
        return bubble, screen_text(pilot.app), pilot.app.query_one(SourcesPanel)

    bubble, text, panel = run_app(QaApp(engine=seeds_engine), script)
    assert bubble.answer is not None and bubble.answer.abstained
    assert bubble.has_class("-abstained") and not bubble.has_class("-found")
    assert "Not found in the sources." in text
    assert "Closest excerpts" in text


def test_min_score_raises_the_bar_for_an_answer(seeds_engine):
    """--min-score reaches the engine: the same answerable question is refused above its confidence."""

    async def script(pilot):
        return await ask(pilot, "How many people died in the protests?")

    found = run_app(QaApp(engine=seeds_engine), script)
    assert found.answer is not None and not found.answer.abstained
    strict = run_app(QaApp(engine=seeds_engine, min_score=min(1.0, found.answer.confidence + 0.01)), script)
    assert strict.answer is not None and strict.answer.abstained and strict.has_class("-abstained")


def test_question_before_ready_is_queued_then_answered(seeds_engine):
    gate = threading.Event()

    def factory(progress, notify):
        progress("embed", 1, 4)
        gate.wait(60)
        return seeds_engine

    async def script(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: "embedding passages 1/4" in screen_text(app))
        app.query_one("#prompt").value = "How many people died in the protests?"
        await pilot.press("enter")
        await pilot.pause()
        bubble = app.turns[0]
        waiting = "Waiting for the index" in screen_text(app)
        first_state = (bubble.answer, len(app.query(QuestionBubble)))
        gate.set()
        await wait_for(pilot, lambda: bubble.answer is not None)
        return waiting, first_state, bubble, screen_text(app)

    waiting, (answer_before, questions), bubble, text = run_app(QaApp(engine_factory=factory), script)
    assert waiting and answer_before is None and questions == 1
    assert bubble.answer.text in text
    assert "Ready" in text


def test_engine_failure_is_a_notification_not_a_crash():
    def factory(progress, notify):
        raise RuntimeError("the index at /nowhere is broken")

    async def script(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: app.failed is not None)
        bubble = await ask(pilot, "Anything?")
        return app.failed, bubble.error, screen_text(app), app.is_running

    failed, error, text, running = run_app(QaApp(engine_factory=factory), script)
    assert "broken" in failed and error == failed
    assert "Could not open the index" in text
    assert running


def test_answer_exception_becomes_an_error_bubble(seeds_engine):
    class Exploding:
        index = seeds_engine.index

        def search_many(self, questions, **options):  # the chat asks through qa.conversation
            raise ValueError("boom")

    async def script(pilot):
        bubble = await ask(pilot, "How many?")
        return bubble, pilot.app.is_running

    bubble, running = run_app(QaApp(engine=Exploding()), script)
    assert bubble.error == "boom" and bubble.has_class("-error") and running


def test_answer_arriving_while_help_is_open(seeds_engine):
    release = threading.Event()

    async def script(pilot):
        from tui.widgets.help import HelpScreen

        app = pilot.app
        app.query_one("#prompt").value = "Who is the president of Peru?"
        await pilot.press("enter", "f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        release.set()
        await wait_for(pilot, lambda: app.turns[0].answer is not None and not app.busy)
        help_open = isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        return help_open, app.is_running, len(app.query(SourceItem))

    help_open, running, sources = run_app(QaApp(engine=HeldEngine(seeds_engine, release)), script)
    assert help_open and running and sources > 0


def test_keys_typed_right_after_enter_start_the_next_question(seeds_engine):
    """Keys reach the app as fast as the terminal sends them: Enter must take the question as
    it stood at that key, and what follows must stay in the box for the next one."""
    from textual import events

    from tui.widgets.prompt import Prompt

    async def script(pilot):
        app = pilot.app
        app.query_one(Prompt).focus()
        await pilot.pause()
        for ch in "Who is Dina Boluarte?":
            app.post_message(events.Key(ch, ch))
        app.post_message(events.Key("enter", "\r"))
        for ch in "How long":
            app.post_message(events.Key(ch, ch))
        await wait_for(pilot, lambda: bool(app.turns))
        await wait_for(pilot, lambda: not app.busy and app.turns[-1].answer is not None)
        return [t.question for t in app.turns], app.query_one(Prompt).value

    questions, draft = run_app(QaApp(engine=seeds_engine), script)
    assert questions == ["Who is Dina Boluarte?"] and draft == "How long"


def test_a_pasted_question_over_several_lines_is_kept_whole(seeds_engine):
    from textual import events

    from tui.widgets.prompt import Prompt

    async def script(pilot):
        prompt = pilot.app.query_one(Prompt)
        prompt.focus()
        await pilot.pause()
        prompt.post_message(events.Paste("How many people died\nin the protests\n"))
        await pilot.pause()
        return prompt.value

    assert run_app(QaApp(engine=seeds_engine), script) == "How many people died in the protests"
