"""The conversation: question bubbles and answer bubbles (pending, answered, not found, error).

An answer bubble can be selected (click, or Enter when focused); the app then shows its
sources in the sources panel. Nothing here animates, so a frame is a pure function of state.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from qa.records import Answer
from qa.safe_text import escape_controls, printable

from ..render import answer_text

WELCOME = (
    "Ask a question about the documents and press Enter.\n"
    "Answers are the documents' own words, with the file and lines they come from.\n"
    "↑/↓ recall earlier questions · F1 help"
)
NEW_TOPIC = "── new topic ──"  # the questions below do not follow the ones above


class QuestionBubble(Static):
    """A question as the user typed it (shown literally)."""

    def __init__(self, question: str) -> None:
        super().__init__(Text(printable(question)), classes="question")
        self.question = question


class AnswerBubble(Static, can_focus=True):
    """The answer to one question; starts pending, then shows the answer or an error."""

    BINDINGS = [Binding("enter", "select", "Show sources", show=False)]

    class Selected(Message):
        def __init__(self, bubble: AnswerBubble) -> None:
            super().__init__()
            self.bubble = bubble

    def __init__(self, question: str, waiting: bool = False) -> None:
        note = "Waiting for the index to load…" if waiting else "Searching the sources…"
        super().__init__(Text(note, style="italic"), classes="answer -pending")
        self.question = question
        self.answer: Answer | None = None
        self.error: str | None = None

    def searching(self) -> None:
        self.update(Text("Searching the sources…", style="italic"))

    def show_answer(self, answer: Answer) -> None:
        self.answer = answer
        self.remove_class("-pending")
        self.add_class("-abstained" if answer.abstained else "-found")
        self.set_class(bool(answer.conflicts) and not answer.abstained, "-conflict")
        self.update(answer_text(answer))

    def show_error(self, message: str) -> None:
        self.error = message
        self.remove_class("-pending")
        self.add_class("-error")
        self.update(Text(f"Could not answer: {escape_controls(message)}"))

    def on_click(self) -> None:
        self.action_select()

    def action_select(self) -> None:
        if self.answer is not None:
            self.post_message(self.Selected(self))


class TopicDivider(Static):
    """Between topics: the questions below it are not read as following the ones above."""

    def __init__(self) -> None:
        super().__init__(Text(NEW_TOPIC), classes="topic")


class Conversation(VerticalScroll):
    """The scrolling list of turns."""

    def on_mount(self) -> None:
        self.show_welcome()

    def show_welcome(self) -> None:
        self.mount(Static(Text(WELCOME), id="welcome"))

    def add_turn(self, question: str, waiting: bool) -> AnswerBubble:
        for welcome in self.query("#welcome"):
            welcome.remove()
        bubble = AnswerBubble(question, waiting=waiting)
        self.mount(QuestionBubble(question), bubble)
        self.call_after_refresh(self.scroll_end, animate=False)
        return bubble

    ANSWER_ROOM = 4  # lines of the answer that must show below its question

    def show_turn(self, bubble: AnswerBubble) -> None:
        """Scroll so the turn's question is at the top, unless the answer's start would not show."""
        index = self.children.index(bubble)
        question = self.children[index - 1] if index > 0 else bubble
        self.call_after_refresh(self._show_turn, question, bubble)

    def _show_turn(self, question: Widget, bubble: AnswerBubble) -> None:
        """A long pasted question would push its own answer off the screen: then the answer leads.

        The question at the top gives the answer its context; but the answer is what was
        asked for, so its first lines must be in view whatever the question's length.
        """
        room = self.scrollable_content_region.height
        fits = question is bubble or question.outer_size.height + self.ANSWER_ROOM <= room
        self.scroll_to_widget(question if fits else bubble, animate=False, top=True)

    def add_divider(self) -> None:
        """Mark where a new topic starts (once: a second Ctrl+N adds nothing)."""
        if self.children and isinstance(self.children[-1], TopicDivider):
            return
        self.mount(TopicDivider())
        self.call_after_refresh(self.scroll_end, animate=False)

    def select(self, bubble: AnswerBubble) -> None:
        for other in self.query(AnswerBubble):
            other.set_class(other is bubble, "-selected")

    async def clear(self) -> None:
        await self.remove_children()
        self.show_welcome()
