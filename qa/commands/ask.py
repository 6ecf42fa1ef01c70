"""`qa ask`: one question, answered with the exact words of the sources and where they stand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from qa.commands.common import corpus_options, json_option, open_engine, print_json, panel_expands, retrieval_options, stdout_console


def answer_options(f: Any) -> Any:
    """--min-score and --answers, shared with `qa batch`."""
    f = click.option(
        "--answers",
        "answers",
        type=click.IntRange(min=1, max=20),
        default=1,
        show_default=True,
        help="How many distinct answers to return (the best first).",
    )(f)
    f = click.option(
        "--min-score",
        "min_score",
        type=click.FloatRange(min=0.0, max=1.0),
        default=None,
        help="Confidence below which the answer is 'not found in the sources' "
        "(default: the reader's threshold, calibrated on the SQuAD validation articles; 0 never abstains).",
    )(f)
    return f


@click.command("ask")
@click.argument("question")
@click.option(
    "--after",
    "after",
    multiple=True,
    metavar="EARLIER",
    help="An earlier question of the conversation, asked first (repeat for several, oldest first), so that "
    "QUESTION may follow it: qa ask 'When did she join?' --after 'Who heads research?'. The answer then shows "
    "the question as it was understood and the words taken from the earlier turns.",
)
@retrieval_options(default_k=5)
@answer_options
@corpus_options
@json_option
def command(
    question: str,
    after: tuple[str, ...],
    k: int,
    retriever: str,
    min_score: float | None,
    answers: int,
    corpus: tuple[Path, ...],
    index_dir: Path | None,
    as_json: bool,
) -> None:
    """Answer QUESTION with the words of the sources: the answer, its confidence and where
    it stands (file, article, lines). Says "Not found in the sources." when they do not answer.

    With --after, QUESTION is a follow-up: the earlier questions are asked first, in order, as
    the turns of one conversation (their answers are not shown), and QUESTION is read with
    them ("When did she join?" → "When did Priya Raman join the company?")."""
    from qa.answers.retrieve import check_question

    from qa.answers.answer import reader

    question = check_question(question)
    earlier = [_earlier(q) for q in after]
    reader()  # a missing or damaged reader model is one line now, not after a first-run index build
    engine = open_engine(corpus, index_dir, quiet=as_json)
    options = {"k": k, "retriever": retriever, "min_score": min_score, "answers": answers}
    if earlier:
        from qa.conversation import Conversation

        conversation = Conversation(engine)
        for q in earlier:
            conversation.ask(q, **options)
        answer = conversation.ask(question, **options)
    else:
        answer = engine.ask(question, **options)
    if as_json:
        print_json(answer.to_json())
        return
    render_answer(answer)


def _earlier(question: str) -> str:
    """An --after question, checked as QUESTION is (an empty one is one line naming --after)."""
    from qa.answers.retrieve import check_question
    from qa.errors import UsageError

    try:
        return check_question(question)
    except UsageError as exc:
        raise UsageError(f"--after: {exc}") from None


def render_answer(answer: Any) -> None:
    """Human output: the answer and its confidence, conflicts, then the sources."""
    from rich.panel import Panel
    from rich.text import Text

    from qa.present import marked_sentence, where
    from qa.safe_text import printable

    out = stdout_console()
    if answer.abstained:
        out.print(Text("Not found in the sources.", style="bold yellow"))  # no confidence: not a graded answer (--json keeps it)
        _print_understood(out, answer)
        if answer.sources:
            out.print(Text("Closest excerpts:", style="bold"))
    else:
        out.print(Text.assemble(("Answer: ", "bold"), (printable(answer.text or ""), "bold green"), (f"   confidence {answer.confidence:.2f}", "dim")))
        _print_understood(out, answer)
        if answer.conflicts:
            out.print(Text("Sources disagree:", style="bold red"))
            for cand in answer.conflicts:
                for i, src in enumerate(cand.sources):
                    head = (f"  • {printable(cand.text)}", "bold") if i == 0 else ("    also", "dim")
                    out.print(Text.assemble(head, "  — ", where(src)))
        elif len(answer.candidates) > 1:
            out.print(Text("Other answers:", style="bold"))
            for cand in answer.candidates[1:]:
                src = cand.sources[0]
                out.print(Text.assemble((f"  • {printable(cand.text)}", "bold"), (f"  ({cand.confidence:.2f})", "dim"), "  — ", where(src)))
        out.print(Text("Sources:", style="bold"))
    for i, src in enumerate(answer.sources, start=1):
        header = Text.assemble((f"{i}. ", "bold"), where(src), (f"  retrieval #{src.rank}", "dim"))
        out.print(Panel(marked_sentence(src), title=header, title_align="left", expand=panel_expands(out)))


def _print_understood(out: Any, answer: Any) -> None:
    """Under a follow-up's answer, how it was read (qa.present.understood_text, as the chat shows it)."""
    from qa.present import understood_text

    text = understood_text(answer)
    if text is not None:
        out.print(text)
