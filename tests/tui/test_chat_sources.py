"""The sources panel and the article reader: selecting a source opens its context, scrolled to it."""

from __future__ import annotations

import pytest
from chat_helpers import ask, run_app, screen_text, wait_for

from qa.records import Passage
from tui.app import QaApp
from tui.widgets.context import ContextScreen, document_text, paragraphs
from tui.widgets.conversation import AnswerBubble
from tui.widgets.sources import SourceItem, source_text


def _passage(pid: str, text: str, start: int) -> Passage:
    return Passage(pid=pid, doc_id="d#1", path="d.txt", title="T", text=text, start=start, end=start + len(text), line_start=1, line_end=1)


def test_document_text_lays_passages_at_their_offsets():
    doc = "One two. Three four.\n\nFive six. Seven."
    parts = [_passage("d#1:1", doc[0:20], 0), _passage("d#1:2", doc[9:38], 9), _passage("d#1:3", doc[22:], 22)]
    assert document_text(reversed(parts), "d#1") == doc
    assert [doc[a:b] for a, b in paragraphs(doc)] == ["One two. Three four.", "Five six. Seven."]


def test_a_source_says_what_the_reader_found_in_it():
    from qa.records import Source

    p = _passage("d#1:1", "Sixty people died. The army left.", 0)
    gives = Source(passage=p, rank=1, retrieval_score=0.5, sentence="Sixty people died.", sentence_start=0, sentence_end=18, answer="Sixty", span_start=0, span_end=5, score=0.81)
    weaker = Source(passage=p, rank=2, retrieval_score=0.4, sentence="The army left.", sentence_start=19, sentence_end=33, score=0.27)
    nothing = Source(passage=p, rank=3, retrieval_score=0.3, sentence="The army left.", sentence_start=19, sentence_end=33, score=0.0)
    assert "score 0.81 · gives Sixty" in source_text(1, gives).plain
    assert "score 0.27" in source_text(2, weaker).plain and "gives" not in source_text(2, weaker).plain
    shown = source_text(3, nothing).plain
    assert "retrieved #3 · no answer here" in shown and "score" not in shown


@pytest.mark.slow
def test_enter_on_a_source_opens_its_article_scrolled_to_it(seeds_engine):
    async def script(pilot):
        app = pilot.app
        bubble = await ask(pilot, "How many people died in the protests?")
        await pilot.press("f2")
        await pilot.pause()
        focused_list = app.focused.id
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ContextScreen))
        await pilot.pause(0.2)
        screen = app.screen
        body = screen.query_one("#context-body")
        target = screen.target
        visible = target is not None and body.scrollable_content_region.overlaps(target.region)
        state = (screen.source, body.scroll_y, visible, screen_text(app))
        await pilot.press("escape")
        await pilot.pause()
        return bubble, focused_list, state, isinstance(app.screen, ContextScreen)

    bubble, focused_list, (source, scroll_y, visible, text), still_open = run_app(QaApp(engine=seeds_engine), script)
    assert focused_list == "sources-list"
    assert source == bubble.answer.sources[0]
    assert source.passage.path in text and source.passage.title.split(":")[0] in text
    assert visible, "the sentence's paragraph is on screen"
    assert scroll_y > 0, "the answer sits deep in its article: the reader scrolled to it"
    assert source.sentence[:30] in " ".join(text.split()) or bubble.answer.text in text
    assert not still_open


@pytest.mark.slow
def test_click_on_a_source_opens_it_and_click_on_an_answer_selects_it(seeds_engine):
    async def script(pilot):
        app = pilot.app
        first = await ask(pilot, "How many people died in the protests?")
        second = await ask(pilot, "What is the boiling point of mercury?")
        shown_after_second = app.query(SourceItem).first().source
        await pilot.click(AnswerBubble)  # the first answer bubble
        await pilot.pause()
        shown_after_click = app.query(SourceItem).first().source
        await pilot.click(SourceItem)
        await wait_for(pilot, lambda: isinstance(app.screen, ContextScreen))
        return first, second, shown_after_second, shown_after_click, app.screen.source

    first, second, after_second, after_click, opened = run_app(QaApp(engine=seeds_engine), script, size=(100, 50))
    assert after_second == second.answer.sources[0]
    assert after_click == first.answer.sources[0]
    assert opened == first.answer.sources[0]


def _type(pilot, text: str):
    """Type `text` key by key, as a person would (not by setting the box's value)."""
    return pilot.press(*("space" if ch == " " else "question_mark" if ch == "?" else ch for ch in text))


@pytest.mark.slow
def test_escape_from_a_source_and_its_article_returns_to_the_question_box(seeds_engine):
    """F2, Enter on a source (its article opens), Escape: the question box has the focus again,
    so a question typed next is asked (it was lost: the focus stayed on the sources list, which
    ignores typing and Escape, and only Tab brought the cursor back)."""
    from chat_helpers import recorded_app

    from tui.widgets.prompt import Prompt

    async def script(pilot):
        app = pilot.app
        await ask(pilot, "How many people died in the protests?")
        await pilot.press("f2")
        await pilot.pause()
        on_list = app.focused.id
        await pilot.press("escape")  # from the sources list itself
        await pilot.pause()
        after_list_escape = isinstance(app.focused, Prompt)
        await pilot.press("f2", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ContextScreen))
        await pilot.press("escape")  # from the article
        await wait_for(pilot, lambda: not isinstance(app.screen, ContextScreen))
        after_article_escape = isinstance(app.focused, Prompt)
        await _type(pilot, "Who is the president of Peru?")
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.turns) == 2 and app.turns[-1].answer is not None, timeout=10)
        return on_list, after_list_escape, after_article_escape, [b.question for b in app.turns], screen_text(app)

    on_list, after_list, after_article, asked, text = run_app(recorded_app(seeds_engine), script, size=(100, 40))
    assert on_list == "sources-list"
    assert after_list, "Escape on the sources list goes back to the question box"
    assert after_article, "Escape from an article goes back to the question box"
    assert asked == ["How many people died in the protests?", "Who is the president of Peru?"]
    assert "Dina Boluarte" in text
