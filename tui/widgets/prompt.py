"""The question input, with shell-like history on Up/Down."""

from __future__ import annotations

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
