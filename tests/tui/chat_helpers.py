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

from tui.app import QaApp
from tui.widgets.conversation import AnswerBubble
from tui.widgets.prompt import Prompt

SIZE = (80, 24)


class HeldEngine:
    """An engine whose answers wait for `release` to be set: states while an answer is computed."""

    def __init__(self, engine: Any, release: Any) -> None:
        self.index = engine.index
        self._engine = engine
        self._release = release

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


def run_app(app: QaApp, script: Callable[[Any], Awaitable[Any]], size: tuple[int, int] = SIZE) -> Any:
    """Run `app` headless at `size`, drive it with `script(pilot)`, return what it returns."""

    async def main() -> Any:
        async with app.run_test(size=size) as pilot:
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
