"""`qa search`: the ranked passages for a question, with where each one stands."""

from __future__ import annotations

from pathlib import Path

import click

from qa.commands.common import corpus_options, json_option, open_engine, print_json, panel_expands, retrieval_options, stdout_console


@click.command("search")
@click.argument("question")
@retrieval_options(default_k=5)
@corpus_options
@json_option
def command(question: str, k: int, retriever: str, corpus: tuple[Path, ...], index_dir: Path | None, as_json: bool) -> None:
    """Show the K passages that best match QUESTION, each with file:lines, title and score."""
    from qa.answers.retrieve import check_question

    question = check_question(question)
    engine = open_engine(corpus, index_dir, quiet=as_json)
    hits = engine.search(question, k=k, retriever=retriever)
    if as_json:
        print_json(
            {
                "question": question,
                "retriever": retriever,
                "k": k,
                "index_dir": str(engine.index.path),
                "hits": [h.to_json() for h in hits],
            }
        )
        return
    render_hits(question, hits, retriever)


# A passage is shown in full up to this many characters (a 100k-character line is data, not a screenful).
MAX_SHOWN = 3000


def render_hits(question: str, hits, retriever: str) -> None:  # type: ignore[no-untyped-def]
    from rich.panel import Panel
    from rich.text import Text

    from qa.safe_text import printable

    out = stdout_console()
    if not hits:
        out.print(Text("No passage matches the question.", style="yellow"))
        return
    for hit in hits:
        p = hit.passage
        others = ", ".join(f"{name} #{r}" if r else f"{name} –" for name, r in hit.ranks.items())
        header = Text.assemble(
            (f"{hit.rank}. ", "bold"),
            (p.location, "green"),
            f"  score {hit.score:.4f}",
            (f"  ({others})" if retriever == "hybrid" else "", "dim"),
        )
        title = Text(printable(p.title) or "(untitled)", style="bold cyan")
        shown = p.text if len(p.text) <= MAX_SHOWN else p.text[:MAX_SHOWN] + f" … [{len(p.text) - MAX_SHOWN:,} more characters; --json has all]"
        out.print(Panel(Text(printable(shown)), title=header, title_align="left", subtitle=title, subtitle_align="left", expand=panel_expands(out)))
