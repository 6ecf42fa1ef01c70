"""Options, progress display and output helpers shared by the subcommands.

Human-facing messages go to stderr so that stdout carries only results (and `--json`
output stays machine-readable); document text is always printed as data, never markup.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from qa.config import INDEX_DIR_HELP, RETRIEVERS
from qa.index.vectors import STORES
from qa.safe_text import plural  # noqa: F401 - re-exported for the subcommands

F = Callable[..., Any]


def store_options(f: F) -> F:
    """--store, --url, --collection: which store holds the index (default $QA_STORE, else the folder).

    The choice is made for the whole process (qa.index.vectors.select) before the command runs, so
    every way a command opens an engine (the chat does it in a worker thread) uses it.
    """

    @functools.wraps(f)
    def run(*args: Any, store: str | None, url: str | None, collection: str | None, **kwargs: Any) -> Any:
        from qa.index import vectors as stores

        spec = choose_store(store, url, collection, kwargs.get("index_dir"))
        previous = stores.select(spec)
        try:
            return f(*args, **kwargs)
        finally:
            stores.select(previous)  # in-process callers (tests, qa.cli.run twice) get their own choice back

    g: F = run
    g = click.option(
        "--collection",
        default=None,
        metavar="NAME",
        help="Qdrant collection (an alias qa moves on each build; default: named after the corpus; $QA_QDRANT_COLLECTION).",
    )(g)
    g = click.option(
        "--url",
        default=None,
        metavar="URL",
        help="Qdrant server or cluster, e.g. http://host:6333 (implies --store qdrant; default $QA_QDRANT_URL, else embedded).",
    )(g)
    g = click.option(
        "--store",
        type=click.Choice(STORES),
        default=None,
        help="Where the index lives: faiss (a folder; the default) or qdrant (embedded in a folder, or a server with --url; "
        "needs pip install 'qa[scale]'). Default: $QA_STORE.",
    )(g)
    return g


def choose_store(store: str | None, url: str | None, collection: str | None, index_dir: Path | None):  # type: ignore[no-untyped-def]
    """The StoreSpec for the options: --store/--url first, then the store the --index-dir folder records, then $QA_STORE.

    An index folder knows what it is (qa.index.vectors.recorded_store): `--index-dir Q` on an
    embedded Qdrant folder opens it as one, with its collection, without `--store qdrant`.
    """
    from qa.index import vectors as stores

    recorded = stores.recorded_store(index_dir) if store is None and url is None else None
    if recorded is not None:
        return stores.StoreSpec(recorded.kind, None, collection or recorded.collection)
    env = stores.from_env()
    kind = store or ("qdrant" if url else env.kind)
    if kind == "qdrant":
        recorded = stores.recorded_store(index_dir) if not (url or env.url) else None
        named = collection or env.collection or (recorded.collection if recorded else None)
        return stores.StoreSpec("qdrant", url or env.url, named)
    return stores.StoreSpec(kind, url, collection)


def follow_links_option(f: F) -> F:
    """--follow-links/--no-follow-links: read symlinks that lead outside the corpus (default: as the
    index records; off for a new one). Chosen for the whole process, as the store is."""

    @functools.wraps(f)
    def run(*args: Any, follow_links: bool | None, **kwargs: Any) -> Any:
        from qa.config import select_follow_links

        previous = select_follow_links(follow_links)
        try:
            return f(*args, **kwargs)
        finally:
            select_follow_links(previous)

    return click.option(
        "--follow-links/--no-follow-links",
        "follow_links",
        default=None,
        help="Also read symlinks that lead outside the corpus (default: as the index was built; a new index does not). "
        "A link that stays inside is always read.",
    )(run)


def corpus_options(f: F) -> F:
    """--corpus/-c and --index-dir (and the store and link options): which documents and which index to use."""
    f = follow_links_option(f)
    f = store_options(f)
    f = click.option(
        "--index-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help=INDEX_DIR_HELP,
    )(f)
    f = click.option(
        "--corpus",
        "-c",
        "corpus",
        multiple=True,
        type=click.Path(path_type=Path),
        help="File or folder the index was built from (default: the bundled seeds/). Repeatable.",
    )(f)
    return f


def retrieval_options(default_k: int = 5) -> Callable[[F], F]:
    def deco(f: F) -> F:
        f = click.option(
            "--retriever",
            "-r",
            type=click.Choice(RETRIEVERS),
            default="hybrid",
            show_default=True,
            help="hybrid fuses the dense and BM25 rankings (reciprocal-rank fusion).",
        )(f)
        f = click.option(
            "-k",
            "k",
            type=click.IntRange(min=1, max=1000),
            default=default_k,
            show_default=True,
            help="How many passages to retrieve.",
        )(f)
        return f

    return deco


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")(f)


def _console_class():  # type: ignore[no-untyped-def]
    """rich's Console, except that a broken pipe is left to qa.cli.run (exit 0, quietly).

    rich's own handler exits with status 1, so `qa ask … | head` looked like a failure.
    """
    from rich.console import Console

    class QuietPipeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return QuietPipeConsole


def stderr_console():  # type: ignore[no-untyped-def]
    return _console_class()(stderr=True, highlight=False)


PIPED_WIDTH = 1000  # stdout that is not a terminal: lines as long as their content, up to this


def stdout_console():  # type: ignore[no-untyped-def]
    """The console for results. Piped to a file or another program (no terminal, no $COLUMNS),
    rich assumed 80 columns and wrapped every table cell to fit: `qa eval > report.txt` was
    unreadable. There it is wide, so a table is as wide as its content (panels fit their
    text: see panel_expands)."""
    console = _console_class()(highlight=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = _console_class()(highlight=False, width=PIPED_WIDTH)
    return console


def panel_expands(console) -> bool:  # type: ignore[no-untyped-def]
    """Whether a Panel should fill the width: on a terminal yes; piped (PIPED_WIDTH) it fits its text instead of padding to 1,000 columns."""
    return bool(console.is_terminal) or console.width < PIPED_WIDTH


def notify(message: str) -> None:
    """A status message for the user, on stderr."""
    from rich.text import Text

    from qa.safe_text import escape_controls

    # one message, one line; a file name in it is data (control characters escaped)
    stderr_console().print(Text(escape_controls(message, keep="\n\t"), style="yellow"), soft_wrap=True)


@contextmanager
def build_progress(quiet: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar fed by the index builder's (stage, done, total) callbacks."""
    if quiet or not sys.stderr.isatty():
        yield lambda stage, done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    labels = {"read": "Reading documents", "embed": "Embedding passages", "write": "Writing index"}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=stderr_console(),
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def open_engine(corpus: tuple[Path, ...], index_dir: Path | None, quiet: bool = False, build_missing: bool = False):  # type: ignore[no-untyped-def]
    """The Engine for the CLI options, with rebuild messages and a progress bar on stderr."""
    from qa.engine import Engine

    with build_progress(quiet) as progress:
        return Engine.open(
            list(corpus) or None,
            index_dir,
            build_missing=build_missing,
            progress=progress,
            notify=notify,
        )


def print_json(obj: Any) -> None:
    from qa.safe_text import json_text

    click.echo(json_text(obj, indent=2))
