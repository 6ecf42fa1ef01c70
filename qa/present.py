"""How an answer is shown, in one place for the CLI and the chat: the span marked in its
sentence, the citation, the confidence word, a conflict line, the Markdown transcript.

Rendering is kept apart from answering (as Rich keeps it apart from logic): qa.answers.answer makes
records, this module turns them into `rich.text.Text` or plain text, and both `qa ask` and the
Textual app call it, so an answer reads the same wherever it is shown. Every string from a
document or the user goes through `printable` (control characters and escapes made visible,
one character for one, so offsets stay valid) and into a `Text`, which Rich and Textual never
parse for markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from qa.records import Answer, Candidate, Source
from qa.safe_text import json_text, printable

SPAN_STYLE = "bold black on yellow"


def marked_sentence(source: Source) -> Text:
    """The source's sentence with the answer span highlighted."""
    text = Text(printable(source.sentence))
    if source.span_start is not None and source.span_end is not None:
        a = source.span_start - source.sentence_start
        b = source.span_end - source.sentence_start
        if 0 <= a < b <= len(source.sentence):
            text.stylize(SPAN_STYLE, a, b)
    return text


CHANGED_NOTE = " (file changed or gone since it was indexed: the lines it had then; re-index for today's)"


def location(source: Source) -> Text:
    """`file:lines` (with the page of a PDF), and the heading of an HTML/DOCX/Markdown section; a file
    edited or deleted since indexing is said to be, since its lines may have moved."""
    text = Text(source.location, style="green")
    if source.section:
        text.append(f" § {printable(source.section)}", style="dim")
    if source.file_changed:
        text.append(CHANGED_NOTE, style="yellow")
    return text


def where(source: Source) -> Text:
    """The location with the article's title and date: a source line of `qa ask`."""
    text = location(source)
    p = source.passage
    if p.title:
        text.append("  ")
        text.append(printable(p.title), style="cyan")
    if p.date:
        text.append("  ")
        text.append(printable(p.date), style="magenta")
    return text


def confidence_label(confidence: float) -> tuple[str, str] | None:
    """(word, style) for an answer's confidence, so 0.73 need not be interpreted alone; the
    words mean what was measured on the validation articles (docs/evaluation.md, "What the
    confidence words mean"): "high" is right at least 80 % of the time, "medium" at least two
    times in three, "low" less. None when the reader's calibration holds no such measurement."""
    from qa.answers.reader import label_cutoffs

    cuts = label_cutoffs()
    if cuts is None:
        return None
    if cuts["high"] is not None and confidence >= cuts["high"]:
        return "high", "bold green"
    if cuts["medium"] is not None and confidence >= cuts["medium"]:
        return "medium", "bold yellow"
    return "low", "bold red"


def confidence_mark(confidence: float) -> Text:
    """A coloured dot and word, then the number (the number alone without a measured word).
    For answers only: "not found" is no graded answer and shows no mark."""
    label = confidence_label(confidence)
    if label is None:
        return Text(f"{confidence:.2f}", style="dim")
    word, style = label
    return Text.assemble(("● ", style), (word, style), (f" {confidence:.2f}", "dim"))


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


def _excerpt_key(src: Source) -> tuple[str, int]:
    return src.passage.doc_id, src.passage.start + src.sentence_start


def shown_sources(answer: Answer) -> list[Source]:
    """The answer's sources, then any conflict source not among them (so each can be opened).

    A conflict candidate's source may repeat a closest excerpt of the main answer without its
    span; the one that carries a span wins, keeping the first position. An excerpt is its
    sentence's place in the document, not in a passage: consecutive passages overlap.
    """
    out: dict[tuple[str, int], Source] = {}
    for src in answer.sources:
        out.setdefault(_excerpt_key(src), src)
    for cand in answer.conflicts:
        for src in cand.sources:
            key = _excerpt_key(src)
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


def transcript_jsonl(answers: Sequence[Answer]) -> str:
    """One `qa ask --json` object a line."""
    return "".join(json_text(a.to_json()) + "\n" for a in answers)


def transcript_markdown(answers: Sequence[Answer], heading: str = "qa chat") -> str:
    """A readable transcript: each question, its answer with sentence and sources."""
    out = [f"# {heading}", ""]
    for a in answers:
        out += [f"## {_md_line(a.question)}", ""]
        out += _understood_lines(a)
        if a.abstained:
            out += ["**Not found in the sources.**", ""]
        else:
            top = a.sources[0] if a.sources else None
            out += [f"**Answer:** {_md_line(a.text or '')} (confidence {a.confidence:.2f})", ""]
            if top is not None:
                changed = " (file changed since it was indexed)" if top.file_changed else ""
                out += [f"> {_md_line(top.sentence)}", "", f"— {_md_line(top.passage.title)}, `{top.location}`{changed}", ""]
            if a.conflicts:
                out += ["**Sources disagree:**", ""]
                for cand in a.conflicts:
                    places = "; ".join(f"`{s.location}`" for s in cand.sources)
                    out.append(f"- {_md_line(cand.text)} ({cand.confidence:.2f}) — {places}")
                out.append("")
        out += ["Sources:" if not a.abstained else "Closest excerpts:", ""]
        for i, s in enumerate(shown_sources(a), start=1):
            out.append(f"{i}. `{s.location}` {_md_line(s.passage.title)}: {_md_line(s.sentence)}")
        out.append("")
    return "\n".join(out)


def understood_parts(answer: Answer) -> tuple[str | None, tuple[str, ...]]:
    """How a follow-up was read: (the question as read, when it differs from what was typed;
    the words taken from earlier turns). (None, ()) for a question that stood alone."""
    read = answer.standalone_question
    if read is None:
        return None, ()
    if " ".join(read.split()) == " ".join(answer.question.split()):
        read = None  # nothing was filled in: the typed question again says nothing new
    return read, answer.context


def understood_text(answer: Answer) -> Text | None:
    """Under a follow-up's answer: "→ the question read" and "using: the words from earlier turns".

    The user sees what the reader was asked, so a wrong guess at what "she" meant shows at once
    (and a new topic starts afresh). None for a question that stood alone. The question and the
    words come from the user and the documents: plain Text (never markup), made printable.
    """
    read, context = understood_parts(answer)
    text = Text(style="dim")
    if read is not None:
        text.append(f"→ {printable(read)}", style="italic")
    if context:
        if text.plain:
            text.append("\n")
        text.append("using: " + ", ".join(printable(w) for w in context))
    return text if text.plain else None


def _understood_lines(a: Answer) -> list[str]:
    """Under a follow-up's question in the transcript, the same as `understood_text`: the
    transcript says what was answered, not only what was typed."""
    read, context = understood_parts(a)
    parts = [f"→ {_md_line(read)}"] if read is not None else []
    if context:
        parts.append(f"(using: {', '.join(_md_line(w) for w in context)})")
    return [" ".join(parts), ""] if parts else []


def _md_line(text: str | None) -> str:
    return " ".join(printable(text or "").split())
