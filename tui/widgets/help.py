"""The help screen: what the keys do and what the marks mean."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = [
    ("Enter", "ask (in the input); open the source (in the sources list)"),
    ("↑ / ↓", "earlier / later questions (in the input)"),
    ("Tab", "move between the input, answers and sources"),
    ("F1 or ?", "this help"),
    ("F2", "focus the sources list"),
    ("F3", "copy the selected answer with its citation"),
    ("F4 / F5", "export the conversation to Markdown / JSONL in the current folder (the notice shows its path)"),
    ("Ctrl+N", "new topic: the next question does not follow the earlier ones"),
    ("Ctrl+L", "clear the conversation (and start a new topic)"),
    ("Escape", "close the help; from the sources or an article: back to the question"),
    ("Ctrl+Q", "quit"),
]

MARKS = (
    "Answers are the documents' own words: the answer is highlighted in its sentence, with the file and "
    "lines it stands on. ● high / medium / low is the confidence: on questions "
    "it was measured on, a high answer was right at least 8 times in 10, a medium one 2 in 3, a low one less "
    "often. \"Not found in the sources\" means no "
    "excerpt answered well enough; the closest ones are listed. \"Sources disagree\" lists each answer "
    "the sources give, with where each stands. Click an answer to see its sources. A follow-up "
    "(\"When did she join?\") is answered with the earlier questions: under its answer, → shows the "
    "question as it was read and \"using:\" the words taken from earlier turns; Ctrl+N starts a new topic."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Close"),
        Binding("f1", "app.pop_screen", "Close", show=False),
        Binding("q", "app.pop_screen", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(justify="right", style="bold cyan", no_wrap=True)
        keys.add_column()
        for key, what in KEYS:
            keys.add_row(key, what)
        with VerticalScroll(id="help-body"):
            yield Static(Text("qa chat — keys", style="bold"))
            yield Static(keys, classes="help-keys")
            yield Static(Text(MARKS))
            yield Static(Text("Escape closes this help.", style="dim"))
