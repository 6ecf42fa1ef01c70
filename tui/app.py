"""QaApp: the Textual chat over an `Engine`.

The first frame never waits for the index: the engine is opened (or built, with progress in
the status line) in a background thread, questions typed meanwhile are queued and answered once
it is ready, and each answer is computed in a thread worker too. Any exception becomes a
notification; the app itself never crashes on bad input or a broken index.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, ListView, Static

from qa.conversation import Conversation as ChatMemory
from qa.present import citation, transcript_jsonl, transcript_markdown
from qa.safe_text import escape_controls, plural, shown_path

from .widgets.context import ContextScreen
from .widgets.conversation import AnswerBubble, Conversation
from .widgets.help import HelpScreen
from .widgets.prompt import Prompt
from .widgets.sources import SourceItem, SourcesPanel

if TYPE_CHECKING:
    from qa.engine import Engine
    from qa.records import Answer

Progress = Callable[[str, int, int], None]
Notify = Callable[[str], None]
EngineFactory = Callable[[Progress, Notify], "Engine"]

NEW_TOPIC = object()  # in the queue: the conversation starts afresh here

STAGES = {"read": "reading documents", "embed": "embedding passages", "write": "writing the index"}


def default_engine_factory(paths: Sequence[str | Path] | None = None, index_dir: str | Path | None = None) -> EngineFactory:
    """Open (building on first run) the index of `paths`; qa.engine is imported in the worker."""

    def factory(progress: Progress, notify: Notify) -> Engine:
        from qa.engine import Engine

        engine = Engine.open(list(paths) if paths else None, index_dir, build_missing=True, progress=progress, notify=notify)
        engine.warm_up()  # load the query encoder now, not on the first question
        return engine

    return factory


class QaApp(App[None]):
    """The chat. Give it an `engine`, or an `engine_factory` run in a worker (default: seeds/)."""

    CSS_PATH = "app.tcss"
    TITLE = "qa chat"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("f2", "focus_sources", "Sources"),
        Binding("escape", "back_to_question", "Question", show=False),
        Binding("f3", "copy", "Copy"),
        Binding("f4", "export('md')", "Save md"),
        Binding("f5", "export('jsonl')", "Save jsonl"),
        Binding("ctrl+n", "new_topic", "New", tooltip="New topic: the next question does not follow the earlier ones"),  # "New topic" would crop Clear at 80 columns
        Binding("ctrl+l", "clear", "Clear"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        paths: Sequence[str | Path] | None = None,
        index_dir: str | Path | None = None,
        retriever: str = "hybrid",
        k: int = 5,
        engine: Engine | None = None,
        engine_factory: EngineFactory | None = None,
        min_score: float | None = None,
        watch: bool = False,
        watch_options: dict[str, Any] | None = None,
        memory: ChatMemory | None = None,
    ) -> None:
        super().__init__()
        self.watch = watch  # keep the index current as the documents change (qa.index.watch)
        self.watch_options = watch_options or {}  # e.g. debounce_ms for tests
        self._watching: Any = None  # qa.index.watch.Running once the watcher runs
        self.retriever = retriever
        self.k = k
        self.min_score = min_score
        self.engine: Engine | None = engine
        self.engine_factory = engine_factory or default_engine_factory(paths, index_dir)
        self.corpus_label = ", ".join(str(p) for p in paths) if paths else None
        self.failed: str | None = None  # why the engine could not be opened
        # the earlier turns a follow-up is answered with (qa.conversation); its engine is set
        # once the index is open, and replaced when --watch swaps in a new index
        self.memory = memory if memory is not None else ChatMemory(engine)
        # questions waiting for the engine, in order, and NEW_TOPIC where a new topic starts:
        # the reset waits for the answers asked before it, so they do not leak into the new topic
        self.queue: deque[tuple[str, AnswerBubble] | object] = deque()
        self.busy = False
        self.turns: list[AnswerBubble] = []
        self.selected: AnswerBubble | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static(Text("Loading the index…"), id="status")
        with Horizontal(id="main"):
            yield Conversation(id="conversation")
            yield SourcesPanel(id="sources")
        yield Prompt(id="prompt")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.prompt.focus()
        if self.engine is not None:
            self._engine_ready(self.engine)
        else:
            self._set_status(Text("Loading the index…", style="italic"))
            self.open_engine()

    # The chat's widgets live on the first screen; `App.query_one` searches the *current*
    # screen, which may be the help or an article when an answer arrives.
    @property
    def main_screen(self) -> Screen[Any]:
        return self.screen_stack[0]

    @property
    def conversation(self) -> Conversation:
        return self.main_screen.query_one(Conversation)

    @property
    def sources_panel(self) -> SourcesPanel:
        return self.main_screen.query_one(SourcesPanel)

    @property
    def prompt(self) -> Prompt:
        return self.main_screen.query_one(Prompt)

    def _set_status(self, text: Text) -> None:
        self.main_screen.query_one("#status", Static).update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Chat actions apply to the chat screen only (hidden from the footer elsewhere)."""
        if action in ("focus_sources", "clear", "new_topic") and self.screen is not self.main_screen:
            return False
        return True

    # ------------------------------------------------------------------ engine

    def open_engine(self) -> None:
        """Open the engine off the UI thread.

        A daemon thread rather than a Textual thread worker: asyncio's executor threads are
        joined when the app exits, so quitting during a first-run index build would wait for
        the whole build. The build is atomic and locked (qa.index.folder), so a thread killed at exit
        leaves at most a temporary directory that the next build sweeps away.
        """
        threading.Thread(target=self._open_engine, name="qa-open-engine", daemon=True).start()

    def _open_engine(self) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            label = STAGES.get(stage, stage)
            self._from_thread(self._set_status, Text(f"Building the index: {label} {done}/{total}", style="italic"))

        def notify(message: str) -> None:
            self._from_thread(self._set_status, Text(escape_controls(message), style="italic"))

        try:
            engine = self.engine_factory(progress, notify)
        except Exception as exc:  # noqa: BLE001 — any failure is shown, never a crash
            self._from_thread(self._engine_failed, exc)
        else:
            self._from_thread(self._engine_ready, engine)

    def _from_thread(self, fn: Callable[..., Any], *args: Any) -> None:
        if not self.is_running:
            return
        try:
            self.call_from_thread(fn, *args)
        except RuntimeError:  # the app exited while the thread ran
            pass

    def _engine_ready(self, engine: Engine) -> None:
        self.engine = engine
        self.memory.engine = engine
        self._set_status(self._ready_status(engine))
        self._pump()
        if self.watch and self._watching is None:
            self.start_watching(engine)

    def _ready_status(self, engine: Engine, note: str | None = None) -> Text:
        counts = engine.index.manifest.get("counts", {})
        status = Text("Ready", style="bold green")
        if self.watch:  # what changed first: a long corpus path must not crop it off the line
            status.append(" (watching)", style="green")
        if note:
            status.append(f" · {escape_controls(note)}", style="italic")
        articles = counts.get("documents")
        shown = plural(articles, "article") if isinstance(articles, int) else "? articles"
        status.append(f" · {shown_path(self.corpus_label or _corpus_label(engine))} · {shown}, ")
        status.append(f"{plural(counts.get('passages', len(engine.index.passages)), 'passage')} · {self.retriever}")
        return status

    # ------------------------------------------------------------------ watching

    def start_watching(self, engine: Engine) -> None:
        """Re-index in a background thread as the documents change; questions meanwhile are
        answered from the index in use, and the new one is swapped in when its build is done."""
        from qa.index.watch import Watcher, start_in_thread

        def progress(stage: str, done: int, total: int) -> None:
            label = STAGES.get(stage, stage)
            self._from_thread(self._set_status, Text(f"Documents changed: updating the index: {label} {done}/{total}", style="italic"))

        def notify(message: str) -> None:  # e.g. waiting for another build of the same index
            self._from_thread(self._set_status, Text(f"Documents changed: {escape_controls(message)}", style="italic"))

        try:
            watcher = Watcher.for_index(engine.index, progress=progress, notify=notify, **self.watch_options)
        except (KeyError, TypeError, ValueError) as exc:  # an index without a usable manifest: no watch, no crash
            self.notify(f"Cannot watch this index: {escape_controls(str(exc))}", severity="warning", markup=False)
            return
        self._watching = start_in_thread(watcher, self._on_watch_update, self._on_watch_error)

    def _on_watch_update(self, update: Any) -> None:
        """In the watcher's thread: open the new engine there, then hand it to the UI."""
        if update.refresh is None or update.refresh.index is None:
            self._from_thread(self._watch_failed, update.line())
            return
        from qa.engine import Engine

        self._from_thread(self._engine_swapped, Engine.for_index(update.refresh.index), update.line())

    def _on_watch_error(self, exc: BaseException) -> None:
        self._from_thread(self._watch_failed, f"stopped watching the documents: {exc or type(exc).__name__}")

    def _engine_swapped(self, engine: Engine, line: str) -> None:
        self.engine = engine  # answers already being computed finish on the old engine they were given
        self.memory.engine = engine  # the conversation keeps its turns: a follow-up still follows
        self._set_status(self._ready_status(engine, line))
        self.notify(escape_controls(line), title="Index", markup=False)
        self._pump()

    def _watch_failed(self, line: str) -> None:
        if self.engine is not None:
            self._set_status(self._ready_status(self.engine, line))
        self.notify(escape_controls(line), title="Index", severity="warning", markup=False, timeout=10)

    def on_unmount(self) -> None:
        if self._watching is not None:
            self._watching.stop()

    def _engine_failed(self, exc: BaseException) -> None:
        self.failed = str(exc) or type(exc).__name__
        self._set_status(Text(f"Could not open the index: {escape_controls(self.failed)}", style="bold red"))
        self.notify(escape_controls(self.failed), title="Index", severity="error", markup=False, timeout=10)
        while self.queue:
            item = self.queue.popleft()
            if isinstance(item, tuple):
                item[1].show_error(self.failed)

    # ------------------------------------------------------------------ asking

    def on_input_submitted(self, event: Prompt.Submitted) -> None:
        question = " ".join(event.value.split())  # the prompt emptied itself at Enter
        if not question:
            return
        self.prompt.remember(event.value.strip())
        self.ask(question)

    def ask(self, question: str) -> AnswerBubble:
        """Add a turn for `question`; it is answered now or as soon as the engine is ready."""
        conversation = self.conversation
        bubble = conversation.add_turn(question, waiting=self.engine is None and self.failed is None)
        self.turns.append(bubble)
        if self.failed is not None:
            bubble.show_error(self.failed)
            return bubble
        self.queue.append((question, bubble))
        self._pump()
        return bubble

    def _pump(self) -> None:
        if self.busy:
            return
        while self.queue and self.queue[0] is NEW_TOPIC:  # no answer is being computed: reset now
            self.queue.popleft()
            self.memory.reset()
        if self.engine is None or not self.queue:
            return
        question, bubble = self.queue.popleft()  # type: ignore[misc]
        self.busy = True
        bubble.searching()
        self.answer_question(self.memory, question, bubble)

    @work(thread=True, exit_on_error=False, group="answers")
    def answer_question(self, memory: ChatMemory, question: str, bubble: AnswerBubble) -> None:
        """Asked through the conversation, so a follow-up is answered with the earlier turns
        (one question at a time: `busy` keeps the turns in order)."""
        try:
            answer = memory.ask(question, k=self.k, retriever=self.retriever, min_score=self.min_score)
        except Exception as exc:  # noqa: BLE001
            self._from_thread(self._answer_failed, bubble, exc)
        else:
            self._from_thread(self._answered, bubble, answer)

    async def _answered(self, bubble: AnswerBubble, answer: Answer) -> None:
        self.busy = False
        if bubble not in self.turns:  # the conversation was cleared while it was computed
            self._pump()
            return
        bubble.show_answer(answer)
        await self.select(bubble)
        self.conversation.show_turn(bubble)
        self._pump()

    def _answer_failed(self, bubble: AnswerBubble, exc: BaseException) -> None:
        message = str(exc) or type(exc).__name__
        if bubble in self.turns:
            bubble.show_error(message)
        self.notify(escape_controls(message), title="Could not answer", severity="error", markup=False)
        self.busy = False
        self._pump()

    async def select(self, bubble: AnswerBubble) -> None:
        self.selected = bubble
        self.conversation.select(bubble)
        await self.sources_panel.show(bubble.answer)

    async def on_answer_bubble_selected(self, event: AnswerBubble.Selected) -> None:
        await self.select(event.bubble)

    # ------------------------------------------------------------------ sources

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        item = event.item
        if isinstance(item, SourceItem) and self.engine is not None:
            self.push_screen(ContextScreen(item.source, self.engine.index.passages))

    # ------------------------------------------------------------------ actions

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_focus_sources(self) -> None:
        view = self.sources_panel.list_view
        if view.children:
            view.focus()
        else:
            self.notify("No sources yet: ask a question first.")

    async def action_back_to_question(self) -> None:
        """Escape, from the sources list or an article: back to the question box, always.

        Popping a screen gives the focus back to the widget that had it (the sources list,
        which takes no typing), so what was typed next went nowhere and only Tab helped.
        """
        while self.screen is not self.main_screen:
            await self.pop_screen()
        self.prompt.focus()

    def _selected_answer(self) -> Answer | None:
        return self.selected.answer if self.selected is not None else None

    def action_copy(self) -> None:
        answer = self._selected_answer()
        if answer is None:
            self.notify("No answer to copy yet.")
            return
        self.copy_to_clipboard(citation(answer))
        self.notify("Copied the answer with its citation.")

    def action_export(self, fmt: str) -> None:
        answers = [b.answer for b in self.turns if b.answer is not None]
        if not answers:
            self.notify("Nothing to export yet.")
            return
        name = f"qa-chat-{time.strftime('%Y%m%d-%H%M%S')}"
        text = transcript_markdown(answers) if fmt == "md" else transcript_jsonl(answers)
        try:
            base = Path.cwd() / name  # raises when the folder the chat started in was deleted since
            path = write_new_file(base, f".{fmt}", text)
        except OSError as exc:
            self.notify(escape_controls(f"Could not write the export {name}.{fmt}: {exc}"), severity="error", markup=False)
            return
        # the full path: the file lands in whatever folder the chat was started from, so say which
        self.notify(f"Exported {plural(len(answers), 'answer')} to {shown_path(path.absolute())}", markup=False, timeout=10)

    def start_new_topic(self) -> None:
        """The next question does not follow the earlier ones (after those already asked)."""
        self.queue.append(NEW_TOPIC)
        self._pump()

    def action_new_topic(self) -> None:
        if self.turns:
            self.conversation.add_divider()
        else:
            self.notify("New topic: the next question starts afresh.", markup=False)
        self.start_new_topic()
        self.prompt.focus()

    async def action_clear(self) -> None:
        self.turns.clear()
        self.selected = None
        # pending questions stay queued but their bubbles are gone: drop them
        self.queue.clear()
        self.start_new_topic()  # what was cleared is not followed up either
        await self.conversation.clear()
        await self.sources_panel.show(None)
        self.prompt.focus()


def _corpus_label(engine: Engine) -> str:
    """The corpus the index was built from, as short as it is clear (folder names)."""
    paths = engine.index.manifest.get("corpus", {}).get("paths") or []
    return ", ".join(shown_path(Path(p).name) + ("/" if Path(p).is_dir() else "") for p in paths) or shown_path(engine.index.path)


# ---------------------------------------------------------------------- export


def write_new_file(base: Path, suffix: str, text: str, tries: int = 1000) -> Path:
    """Write `text` to base+suffix, or base-1+suffix, base-2+suffix … : never over an existing file.

    Two exports in the same second get the same time-stamped name; opening with mode "x"
    (create, fail if it exists) makes the second one take the next free name instead of
    replacing the first, even if another program creates the file meanwhile.
    """
    for n in range(tries):
        path = base.with_name(f"{base.name}{'' if n == 0 else f'-{n}'}{suffix}")
        try:
            with path.open("x", encoding="utf-8") as fh:
                fh.write(text)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{base}{suffix} and {tries - 1} numbered names exist")
