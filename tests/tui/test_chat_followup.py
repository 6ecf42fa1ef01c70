"""Follow-up questions in the chat (issue 34): a follow-up is answered with the earlier turns and
shows the question it was read as; Ctrl+N / Ctrl+L start a new topic; the exports keep the
question as read. Real model and FAISS on a small corpus made here."""

from __future__ import annotations

import json
import threading

import pytest
from chat_helpers import HeldEngine, ask, run_app, screen_lines, screen_text, wait_for
from conftest import write_corpus

from qa.records import Answer
from tui.app import QaApp
from tui.render import understood_text
from tui.widgets.conversation import TopicDivider
from tui.widgets.prompt import Prompt

DOCS = {
    "falcon.txt": (
        "The Falcon project\n\n"
        "Priya Raman leads the Falcon project at Northwind Logistics. She joined the company in March 2019 "
        "as a data engineer and became the project's lead two years later.\n\n"
        "The Falcon project builds a route planner for the company's delivery vans. It started in 2020 "
        "with a team of six engineers in Leeds.\n"
    ),
    "harbour.txt": (
        "The harbour office\n\n"
        "Tomas Berg runs the harbour office in Bergen. He joined the port authority in 2011 after ten "
        "years at sea.\n\nThe harbour office handles berth bookings for cargo ships and ferries.\n"
    ),
}
FIRST = "Who leads the Falcon project?"
FOLLOW_UP = "When did she join the company?"
SIZE = (160, 40)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from qa.engine import Engine

    root = tmp_path_factory.mktemp("followup")
    return Engine.open([write_corpus(root / "corpus", DOCS)], root / "index", build_missing=True)


def _understood_lines(text: str) -> list[str]:
    """The screen's '→ …' and 'using: …' lines (inside the answer bubbles)."""
    return [line.strip(" ▌▎┃│") for line in text.splitlines() if "→ " in line or "using: " in line]


# ------------------------------------------------------------------ what was understood


@pytest.mark.slow
def test_a_follow_up_shows_the_question_it_was_read_as(engine):
    async def script(pilot):
        first = await ask(pilot, FIRST)
        alone = screen_text(pilot.app)
        second = await ask(pilot, FOLLOW_UP)
        return first.answer, alone, second.answer, screen_text(pilot.app)

    first, alone, second, text = run_app(QaApp(engine=engine), script, size=SIZE)
    assert first.standalone_question is None and not _understood_lines(alone)  # it stood alone: nothing extra
    assert second.question == FOLLOW_UP
    assert second.standalone_question and second.standalone_question != FOLLOW_UP  # "she" was filled in
    assert "she" not in second.standalone_question.split()
    assert f"→ {second.standalone_question}" in text
    assert second.context and f"using: {', '.join(second.context)}" in text


@pytest.mark.slow
def test_a_question_that_stands_alone_after_another_shows_nothing_extra(engine):
    async def script(pilot):
        await ask(pilot, FIRST)
        bubble = await ask(pilot, "Who runs the harbour office in Bergen?")
        return bubble.answer, screen_text(pilot.app)

    answer, text = run_app(QaApp(engine=engine), script, size=SIZE)
    assert answer.standalone_question is None and answer.context == ()
    assert not _understood_lines(text)


@pytest.mark.slow
def test_markup_in_a_follow_up_shows_literally_in_the_understood_line(engine):
    """The question as read holds the user's text: Rich markup in it is shown, not applied."""
    question = "[b]when[/b] did she join [link=https://x.example]the firm[/link]?"

    async def script(pilot):
        await ask(pilot, FIRST)
        bubble = await ask(pilot, question)
        return bubble.answer, screen_text(pilot.app)

    answer, text = run_app(QaApp(engine=engine), script, size=SIZE)
    assert answer.standalone_question and "[b]when[/b]" in answer.standalone_question
    (arrow,) = [line for line in _understood_lines(text) if "→ " in line]
    assert "[b]when[/b]" in arrow and "[link=https://x.example]the firm[/link]" in arrow


def test_understood_text_escapes_controls_and_keeps_markup_literal():
    answer = Answer(
        "Where was it?", None, None, 0.0, True, (),
        standalone_question="Where was [red]the\x1b[2J herd[/red]?", context=("[link=x]Puno[/link]", "alpaca\x9b"),
    )
    text = understood_text(answer)
    assert text is not None
    assert "\x1b" not in text.plain and "\x9b" not in text.plain
    assert "→ Where was [red]the␛[2J herd[/red]?" in text.plain
    assert "using: [link=x]Puno[/link], alpaca" in text.plain
    assert not text.spans or all("link" not in str(span.style) for span in text.spans)


def test_understood_text_is_none_for_a_question_that_stood_alone():
    assert understood_text(Answer("Who?", "Ana", "Ana.", 0.9, False, ())) is None


# ------------------------------------------------------------------ new topic


@pytest.mark.slow
@pytest.mark.parametrize("key", ["ctrl+n", "ctrl+l"])
def test_new_topic_key_stops_the_next_question_following_the_old_one(engine, key):
    async def script(pilot):
        await ask(pilot, FIRST)
        await pilot.press(key)
        await pilot.pause()
        divider = len(pilot.app.query(TopicDivider))
        bubble = await ask(pilot, FOLLOW_UP)
        return divider, bubble.answer, screen_text(pilot.app), [b.question for b in pilot.app.turns]

    divider, answer, text, asked = run_app(QaApp(engine=engine), script, size=SIZE)
    assert answer.standalone_question is None and answer.context == ()  # "she" is not read as Priya Raman
    assert not _understood_lines(text)
    if key == "ctrl+n":  # the conversation stays, with a divider where the new topic starts
        assert divider == 1 and "new topic" in text and asked == [FIRST, FOLLOW_UP]
    else:  # cleared: nothing of the old topic is left on screen either
        assert asked == [FOLLOW_UP] and FIRST not in text


@pytest.mark.slow
def test_new_topic_while_an_answer_is_computed_applies_after_the_questions_before_it(engine):
    """Questions are answered in order: a follow-up asked before Ctrl+N follows the first question,
    one asked after it does not, even though all three were typed before the first was answered."""
    release = threading.Event()

    async def submit(pilot, text):
        pilot.app.query_one(Prompt).value = text
        await pilot.press("enter")
        await pilot.pause()

    async def script(pilot):
        app = pilot.app
        await submit(pilot, FIRST)
        await submit(pilot, FOLLOW_UP)
        await pilot.press("ctrl+n")
        await submit(pilot, FOLLOW_UP)
        release.set()
        await wait_for(pilot, lambda: len(app.turns) == 3 and all(b.answer is not None for b in app.turns) and not app.busy)
        return [b.answer for b in app.turns], len(app.query(TopicDivider))

    answers, dividers = run_app(QaApp(engine=HeldEngine(engine, release)), script, size=SIZE)
    assert answers[1].standalone_question is not None
    assert answers[2].standalone_question is None
    assert dividers == 1


def test_ctrl_n_twice_adds_one_divider_and_none_before_any_question():
    gate = threading.Event()

    def never_ready(progress, notify):
        gate.wait(30)
        raise RuntimeError("closed")

    async def script(pilot):
        await pilot.press("ctrl+n")
        empty = len(pilot.app.query(TopicDivider))
        pilot.app.query_one(Prompt).value = "a question"
        await pilot.press("enter", "ctrl+n", "ctrl+n")
        await pilot.pause()
        return empty, len(pilot.app.query(TopicDivider)), screen_lines(pilot.app)[-1]

    try:
        empty, after, footer = run_app(QaApp(engine_factory=never_ready), script)
    finally:
        gate.set()
    assert (empty, after) == (0, 1)
    assert "^n New" in footer and "^l Clear" in footer  # all keys fit 80 columns


# ------------------------------------------------------------------ exports


@pytest.mark.slow
def test_exports_keep_the_question_as_read_beside_each_follow_up(engine, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    async def script(pilot):
        await ask(pilot, FIRST)
        await ask(pilot, FOLLOW_UP)
        await pilot.press("f4", "f5")
        await pilot.pause()
        return [b.answer for b in pilot.app.turns]

    first, second = run_app(QaApp(engine=engine), script, size=SIZE)
    assert second.standalone_question
    (md,) = tmp_path.glob("qa-chat-*.md")
    lines = md.read_text(encoding="utf-8").splitlines()
    at = lines.index(f"## {FOLLOW_UP}")
    assert lines[at + 2].startswith(f"→ {second.standalone_question}")  # the line under the question
    assert all(not line.startswith("→") for line in lines[: at])  # none under the question that stood alone
    (jsonl,) = tmp_path.glob("qa-chat-*.jsonl")
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [r["question"] for r in rows] == [FIRST, FOLLOW_UP]
    assert rows[0]["standalone_question"] == FIRST
    assert rows[1]["standalone_question"] == second.standalone_question
    assert rows[1]["context"] == list(second.context)
