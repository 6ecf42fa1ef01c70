"""Document text and questions are data: Rich markup and ANSI escapes show literally."""

from __future__ import annotations

import pytest
from chat_helpers import ask, run_app, screen_text, wait_for
from conftest import write_corpus

from tui.app import QaApp
from tui.widgets.context import ContextScreen

pytestmark = pytest.mark.slow

HOSTILE = {
    "herd.txt": (
        "Alpacas of the Andes\n\n"
        "Alpacas are domesticated camelids that live in the high Andes of Peru. "
        "The herd in Puno counted [bold red]340[/] animals in 2021, says [link=https://evil.example]the census[/link]. "
        "Shearers shouted \x1b[31mred alert\x1b[0m when the frost came.\n\n"
        "Their fleece is sheared once a year, usually in November, and sold in Arequipa.\n"
    ),
    "volcano.md": "# The Misti volcano\n\nMisti is a stratovolcano near the city of Arequipa. Its summit stands 5,822 metres above sea level.\n",
}


@pytest.fixture(scope="module")
def hostile_engine(tmp_path_factory):
    from qa.engine import Engine

    root = tmp_path_factory.mktemp("hostile")
    corpus = write_corpus(root / "corpus", HOSTILE)
    return Engine.open([corpus], root / "index", build_missing=True)


def _assert_literal(text: str) -> None:
    assert "\x1b" not in text
    assert "[bold red]340[/]" in text
    assert "[link=https://evil.example]" in text


def test_markup_and_escapes_in_a_document_show_literally(hostile_engine):
    async def script(pilot):
        app = pilot.app
        bubble = await ask(pilot, "How many animals did the herd in Puno count?")
        chat = screen_text(app)
        await pilot.press("f2", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ContextScreen))
        await pilot.pause(0.2)
        return bubble, chat, screen_text(app), app.export_screenshot()

    bubble, chat, article, svg = run_app(QaApp(engine=hostile_engine), script, size=(160, 40))
    assert bubble.answer is not None and "[bold red]" in bubble.answer.sources[0].sentence
    _assert_literal(chat)
    _assert_literal(article)
    # the escape sequence is shown as a visible symbol, not sent to (or swallowed by) the terminal
    assert "[31mred alert" in " ".join(article.split())
    assert "\x1b" not in svg


def test_markup_and_escapes_in_a_question_show_literally(hostile_engine):
    question = "Is [bold red]this[/] a [link=https://evil.example]link[/link] or \x1b[31mred\x1b[0m?"

    async def script(pilot):
        await ask(pilot, question)
        return screen_text(pilot.app)

    text = run_app(QaApp(engine=hostile_engine), script, size=(160, 40))
    assert "Is [bold red]this[/] a [link=https://evil.example]link[/link] or" in text
    assert "␛[31mred␛[0m?" in text and "\x1b" not in text
