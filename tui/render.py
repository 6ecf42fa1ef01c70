"""The chat's answer bubble; its pieces (marked sentence, location, confidence, conflict
lines) come from qa.present, which `qa ask` uses too: document text is data, never markup.
"""

from __future__ import annotations

from rich.text import Text

from qa.present import candidate_line, confidence_mark, location, marked_sentence, understood_text  # one presentation, CLI and chat alike
from qa.records import Answer
from qa.safe_text import printable


def answer_text(answer: Answer) -> Text:
    """The body of an answer bubble: answer + confidence, sentence, location, conflicts, and
    under a follow-up what it was understood as."""
    text = _answer_body(answer)
    understood = understood_text(answer)
    if understood is not None:
        text.append("\n")
        text.append_text(understood)
    return text


def _answer_body(answer: Answer) -> Text:
    if answer.abstained:
        text = Text("Not found in the sources.", style="bold")  # no confidence mark: not a graded answer
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
        text.append_text(location(top))
    if answer.conflicts:
        text.append("\n")
        text.append("Sources disagree:", style="bold red")
        for cand in answer.conflicts:
            text.append("\n")
            text.append_text(candidate_line(cand))
    return text
