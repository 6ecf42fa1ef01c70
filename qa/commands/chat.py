"""`qa chat`: the Textual terminal chat (the `tui` package) over a corpus, seeds/ by default.

Only click and the app's module are imported here; the engine (FAISS, the encoder) is opened
inside the app's worker so the first frame appears at once, even while an index is built.
"""

from __future__ import annotations

from pathlib import Path

import click

from qa.commands.common import retrieval_options, follow_links_option, store_options
from qa.config import INDEX_DIR_HELP


@click.command("chat")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--corpus",
    "-c",
    "corpus",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="File or folder to chat with, as -c in the other commands (the same as giving it as PATH). Repeatable.",
)
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=INDEX_DIR_HELP,
)
@store_options
@follow_links_option
@retrieval_options(default_k=5)
@click.option(
    "--min-score",
    "min_score",
    type=click.FloatRange(min=0.0, max=1.0),
    default=None,
    help="Confidence below which an answer is 'not found in the sources' (default: the calibrated threshold).",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Keep the index current while you chat: added, changed or removed files are re-indexed "
    "(incrementally) in the background and the new index is swapped in when ready.",
)
def command(paths: tuple[Path, ...], corpus: tuple[Path, ...], index_dir: Path | None, k: int, retriever: str, min_score: float | None, watch: bool) -> None:
    """Chat with the documents in PATH... (files or folders of .txt/.md/.pdf/.html/.docx; default: the bundled
    seeds/). The index is built on first run, with progress shown in the app; with --watch it
    follows the documents as they change (a status line says what changed). A follow-up
    ("When did she join?") is answered with the earlier questions; the question as it was
    read shows under its answer.

    \b
    Keys: Enter ask · ↑/↓ history · F1 help · F2 sources · F3 copy answer
          F4/F5 export .md/.jsonl · Ctrl+N new topic · Ctrl+L clear · Ctrl+Q quit
    """
    from qa.errors import UsageError
    from qa.index.vectors import selected

    paths = paths + corpus  # `qa chat DIR` and `qa chat -c DIR`, as ask/search/batch/eval take it

    if watch and selected().kind != "faiss":
        raise UsageError("--watch works with the folder store only (for now); leave out --store qdrant / --url")
    if index_dir is not None and not paths and selected().kind == "faiss":
        # an index named alone must exist (there is nothing to build it from): say so here,
        # as one line, rather than inside the app
        from qa.index.folder import read_manifest

        read_manifest(index_dir)
    from tui.app import QaApp

    QaApp(paths=list(paths) or None, index_dir=index_dir, retriever=retriever, k=k, min_score=min_score, watch=watch).run()
