"""The sources panel: the excerpts behind the selected answer, each openable in context."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ListItem, ListView, Static

from qa.records import Answer, Source

from qa.safe_text import printable

from qa.present import location, marked_sentence, shown_sources


def source_text(number: int, source: Source) -> Text:
    """`n. file:lines`, score (and the answer this source gives), title, the sentence with its span marked."""
    text = Text(f"{number}. ", style="bold")
    text.append(location(source))  # file:lines, the HTML/DOCX heading, a file changed since indexing
    if source.answer is not None:
        text.append(f"\nscore {source.score:.2f} · gives ", style="dim")
        text.append(printable(source.answer.replace("\n", " ")[:40]), style="bold")
    elif source.score > 0:  # a closest excerpt around the reader's best (weaker) guess in it
        text.append(f"\nscore {source.score:.2f}", style="dim")
    else:  # the reader found no span in it at all: "score 0.00" would say nothing
        text.append(f"\nretrieved #{source.rank} · no answer here", style="dim")
    if source.passage.title:
        text.append("\n")
        text.append(printable(source.passage.title), style="cyan")
    text.append("\n")
    text.append_text(marked_sentence(source))
    return text


class SourceItem(ListItem):
    def __init__(self, number: int, source: Source) -> None:
        super().__init__(Static(source_text(number, source)))
        self.source = source


class SourcesPanel(Vertical):
    """A title line and the list; Enter or a click on an item opens its full context."""

    def compose(self) -> ComposeResult:
        yield Label("Sources", id="sources-title")
        yield ListView(id="sources-list")

    @property
    def list_view(self) -> ListView:
        return self.query_one("#sources-list", ListView)

    async def show(self, answer: Answer | None) -> None:
        title = self.query_one("#sources-title", Label)
        view = self.list_view
        await view.clear()
        if answer is None:
            title.update("Sources")
            return
        sources = shown_sources(answer)
        label = "Closest excerpts" if answer.abstained else "Sources"
        title.update(Text(f"{label} ({len(sources)})", style="bold"))
        await view.extend(SourceItem(i, src) for i, src in enumerate(sources, start=1))
        view.index = 0 if sources else None
