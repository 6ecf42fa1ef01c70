"""The question input, with shell-like history on Up/Down."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Input


class Prompt(Input):
    """An Input that remembers submitted questions; Up/Down walk them, keeping the draft."""

    BINDINGS = [
        Binding("up", "history(-1)", "Previous question", show=False),
        Binding("down", "history(1)", "Next question", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(placeholder="Ask a question about the documents…", **kwargs)  # type: ignore[arg-type]
        self.history: list[str] = []
        self._cursor = 0  # == len(history) when editing the draft
        self._draft = ""

    async def _on_key(self, event: events.Key) -> None:
        """Enter submits what the box holds at that key, in order with the keys around it.

        Input's Enter is a binding, run once the key has bubbled up to the app: keys typed
        right after Enter reached the box first, so "Who designed it?" + Enter + "How long"
        was asked as "Who designed it?How long" (and the rest of the draft was lost).
        """
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self, self.value))
            self.value = ""  # now, not when the app gets to the message: what is typed next stays
        # any other key: Input's own handler runs next (Textual calls each class's in turn)

    def _on_paste(self, event: events.Paste) -> None:
        """Pasted text is inserted whole, its line breaks as spaces: Input keeps only the first
        line, so a question copied from a hard-wrapped page lost its end without a word."""
        if event.text.strip():
            event.stop()
            event.prevent_default()  # not Input's own paste as well
            joined = " ".join(event.text.split())
            if self.selection.is_empty:
                self.insert_text_at_cursor(joined)
            else:
                self.replace(joined, *self.selection)

    def remember(self, question: str) -> None:
        if question and (not self.history or self.history[-1] != question):
            self.history.append(question)
        self._cursor = len(self.history)
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._cursor == len(self.history):
            self._draft = self.value
        self._cursor = max(0, min(len(self.history), self._cursor + step))
        self.value = self._draft if self._cursor == len(self.history) else self.history[self._cursor]
        self.cursor_position = len(self.value)
