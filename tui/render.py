"""Turn records into `rich.text.Text` for display: document text is data, never markup.

Every string that comes from a document or the user goes through `printable` (control
characters and ANSI escapes become visible symbols, one character for one so offsets stay
valid) and into a `Text` object, which Rich and Textual never parse for markup.
"""

from __future__ import annotations

from rich.text import Text

from qa.commands.ask import SPAN_STYLE, marked_sentence  # one rule for marking a span, CLI and chat alike
from qa.records import Answer, Candidate, Source
from qa.safe_text import printable


def confidence_mark(confidence: float) -> Text:
    """A coloured word and the number: the reader should not have to interpret 0.73 alone."""
    if confidence >= 0.8:
        label, style = "high", "bold green"
    elif confidence >= 0.5:
        label, style = "medium", "bold yellow"
    else:
        label, style = "low", "bold red"
    return Text.assemble(("● ", style), (label, style), (f" {confidence:.2f}", "dim"))


def candidate_line(candidate: Candidate) -> Text:
    """One answer of a conflict and where (and, when known, on what date) each source gives it."""
    text = Text("• ")
    text.append(printable(candidate.text), style="bold")
    text.append(f" ({candidate.confidence:.2f})", style="dim")
    text.append(" — ", style="dim")
    for i, src in enumerate(candidate.sources):
        if i:
            text.append(", ")
        text.append(src.location, style="green")
        if src.passage.date:  # figures that differ are often figures of different days
            text.append(f" ({printable(src.passage.date)})", style="magenta")
    return text


def answer_text(answer: Answer) -> Text:
    """The body of an answer bubble: answer + confidence, sentence, location, conflicts."""
    if answer.abstained:
        text = Text("Not found in the sources.", style="bold")
        text.append("\n")
        text.append_text(confidence_mark(answer.confidence))
        if answer.sources:
            text.append("\nThe closest excerpts are in the sources panel.", style="italic")
        return text
    text = Text(printable(answer.text or ""), style="bold")
    text.append("   ")
    text.append_text(confidence_mark(answer.confidence))
    if answer.sources:
        top = answer.sources[0]
        text.append("\n")
        text.append_text(marked_sentence(top))
        text.append("\n— ")
        text.append(top.location, style="green")
        if top.section:  # HTML/DOCX: the heading the sentence stands under
            text.append(f" § {printable(top.section)}", style="dim")
    if answer.conflicts:
        text.append("\n")
        text.append("Sources disagree:", style="bold red")
        for cand in answer.conflicts:
            text.append("\n")
            text.append_text(candidate_line(cand))
    return text


def panel_sources(answer: Answer) -> list[Source]:
    """The answer's sources, then any conflict source not among them (so each can be opened).

    A conflict candidate's source may repeat a closest excerpt of the main answer without its
    span; the one that carries a span wins, keeping the first position.
    """
    out: dict[tuple[str, int], Source] = {}
    for src in answer.sources:
        out.setdefault((src.passage.pid, src.sentence_start), src)
    for cand in answer.conflicts:
        for src in cand.sources:
            key = (src.passage.pid, src.sentence_start)
            if key not in out or (out[key].answer is None and src.answer is not None):
                out[key] = src
    return list(out.values())


def citation(answer: Answer) -> str:
    """Plain text for the clipboard: the answer, its sentence and where it stands."""
    if answer.abstained or not answer.sources:
        return f"Q: {answer.question}\nA: Not found in the sources."
    top = answer.sources[0]
    title = f"{top.passage.title}, " if top.passage.title else ""
    return f'Q: {answer.question}\nA: {answer.text}\n"{top.sentence}"\n— {title}{top.location}'
