"""Helpers for driving the real chat app with Textual's Pilot (imported by the test modules).

Tests that need answers use the session `seeds_engine` (real model, real FAISS on seeds/),
passed to the app pre-built so no test rebuilds or reloads it.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Awaitable, Callable
from typing import Any

from qa.conversation import Conversation
from tui.app import QaApp
from tui.widgets.conversation import AnswerBubble
from tui.widgets.prompt import Prompt

SIZE = (80, 24)


def recorded_source(index: Any, sentence_start: str, answer: str | None, rank: int, score: float) -> Any:
    """A Source for the real passage whose text holds `sentence_start` (the sentence runs to its
    full stop), with `answer` marked inside it when given."""
    from qa.records import Source

    passage = next(p for p in index.passages if sentence_start in p.text)
    a = passage.text.index(sentence_start)
    stop = passage.text.find(". ", a)
    b = len(passage.text) if stop < 0 else stop + 1
    span = (passage.text.index(answer, a), passage.text.index(answer, a) + len(answer)) if answer else (None, None)
    return Source(
        passage=passage, rank=rank, retrieval_score=score, sentence=passage.text[a:b], sentence_start=a,
        sentence_end=b, answer=answer, span_start=span[0], span_end=span[1], score=score,
        lines=(passage.line_start, passage.line_end),
    )


class RecordedEngine:
    """The real seeds index with fixed answers: snapshots show presentation only, so they do not
    move when the answer model is refit or when int8 kernels round differently on another CPU
    (the live answers are covered by the Pilot tests)."""

    def __init__(self, engine: Any) -> None:
        from qa.records import Answer, Candidate

        self.index = engine.index
        src = lambda *a: recorded_source(self.index, *a)  # noqa: E731
        president = src("On January 10, Peru’s Attorney General", "Dina Boluarte", 1, 0.93)
        died = src("At least 60 people have died", "60", 1, 0.96)
        killed = src("In six weeks 54 people have been killed", "54", 2, 0.84)
        self.answers = {
            "Who is the president of Peru?": Answer(
                "Who is the president of Peru?", "Dina Boluarte", president.sentence, 0.93, False,
                (president, src("At least 60 people have died", None, 2, 0.41)),
                (Candidate("Dina Boluarte", 0.93, (president,)),),
            ),
            "How many people died in the protests?": Answer(
                "How many people died in the protests?", "60", died.sentence, 0.96, False, (died, killed),
                (Candidate("60", 0.96, (died,)),),
                (Candidate("60", 0.96, (died,)), Candidate("54", 0.84, (killed,))),
            ),
            "What is the boiling point of mercury?": Answer(
                "What is the boiling point of mercury?", None, None, 0.07, True,
                (src("In six weeks 54 people have been killed", None, 1, 0.12),),
            ),
        }

    def warm_up(self) -> None:
        pass

    def ask(self, question: str, **options: Any) -> Any:
        return self.answers[question]


class RecordedMemory(Conversation):
    """The chat's conversation answered by RecordedEngine's fixed answers (presentation only)."""

    def ask(self, question: str, **options: Any) -> Any:
        return self.engine.ask(question, **options)


def recorded_app(engine: Any, **options: Any) -> QaApp:
    """The chat over the seeds index with RecordedEngine's fixed answers."""
    recorded = RecordedEngine(engine)
    return QaApp(engine=recorded, memory=RecordedMemory(recorded), **options)


class HeldEngine:
    """An engine whose answers wait for `release` to be set: states while an answer is computed."""

    def __init__(self, engine: Any, release: Any) -> None:
        self.index = engine.index
        self.locator = engine.locator
        self._engine = engine
        self._release = release

    def search_many(self, questions: Any, **options: Any) -> Any:
        self._release.wait(30)
        return self._engine.search_many(questions, **options)

    def ask(self, question: str, **options: Any) -> Any:
        self._release.wait(30)
        return self._engine.ask(question, **options)


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Let the app run until `condition()` holds (fails the test after `timeout` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("the app did not reach the expected state")
        await pilot.pause(0.05)
    await pilot.pause()


async def ask(pilot: Any, question: str) -> AnswerBubble:
    """Type `question` in the prompt, press Enter and wait for its answer (or error)."""
    app: QaApp = pilot.app
    prompt = app.query_one(Prompt)
    prompt.focus()
    prompt.value = question
    await pilot.press("enter")
    await wait_for(pilot, lambda: bool(app.turns) and app.turns[-1].question == " ".join(question.split()))
    bubble = app.turns[-1]
    await wait_for(pilot, lambda: bubble.answer is not None or bubble.error is not None)
    await wait_for(pilot, lambda: not app.busy)
    return bubble


def run_app(app: QaApp, script: Callable[[Any], Awaitable[Any]], size: tuple[int, int] = SIZE, notifications: bool = False) -> Any:
    """Run `app` headless at `size`, drive it with `script(pilot)`, return what it returns
    (`notifications`: show toasts on screen, which Textual's test mode leaves off by default)."""

    async def main() -> Any:
        async with app.run_test(size=size, notifications=notifications) as pilot:
            await pilot.pause()
            return await script(pilot)

    return asyncio.run(main())


CELL_WIDTH = 12.2  # width of one terminal cell in Textual's SVG screenshots
_TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" clip-path="url\(#[^)]*-line-(\d+)\)">(.*?)</text>')


def screen_lines(app: QaApp) -> list[str]:
    """The characters on screen, one string per terminal row (read from the SVG screenshot)."""
    rows: dict[int, list[tuple[int, str]]] = {}
    for x, line, text in _TEXT.findall(app.export_screenshot()):
        column = round(float(x) / CELL_WIDTH)
        rows.setdefault(int(line), []).append((column, html.unescape(text).replace("\xa0", " ")))
    lines = []
    for i in range(max(rows, default=-1) + 1):
        out = ""
        for column, text in sorted(rows.get(i, [])):
            out = out.ljust(column) + text
        lines.append(out)
    return lines


def screen_text(app: QaApp) -> str:
    return "\n".join(screen_lines(app))


async def no_blink(pilot: Any) -> None:
    """Stop the input cursor blinking, so a screenshot does not depend on timing."""
    pilot.app.query_one(Prompt).cursor_blink = False
    await pilot.pause()
