"""A conversation with the documents: follow-up questions answered with the earlier turns.

The engine answers each question as if it were the first; a `Conversation` keeps the turns
and hands the engine what a follow-up means (qa.answers.followup.understand): the question
the reader reads, the words retrieval searches, and the document to prefer among equal
scores. A question that stands alone goes through unchanged, so it gets the same answer as
outside any conversation. `answer_conversations` answers many conversations at once, the
n-th turns of all of them in one batch (how `qa batch` answers rows that share a
"conversation").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from qa.answers.followup import Turn, Understood, understand
from qa.errors import QAError
from qa.records import Answer, Hit

MAX_TURNS = 4  # earlier turns kept (a referent is looked for in the last two)


def doc_id_of(passage_id: str) -> str:
    """The document a passage id ("<doc_id>:<n>", qa.documents.chunk) belongs to: what a turn
    written out as its top source's passage id (`qa batch` output) is rebuilt with."""
    return passage_id.rsplit(":", 1)[0]


def turn_of(understood: Understood, answer: Answer) -> Turn:
    top = answer.sources[0] if answer.sources and not answer.abstained else None
    return Turn(
        question=understood.question,
        standalone=understood.standalone,
        answer=None if answer.abstained else answer.text,
        doc_id=None if top is None else top.passage.doc_id,
    )


def prefer(hits: list[Hit], doc_id: str | None) -> list[Hit]:
    """Among hits with equal scores, the preferred document's first (ranks renumbered)."""
    if doc_id is None:
        return hits
    order = sorted(range(len(hits)), key=lambda i: (-hits[i].score, hits[i].passage.doc_id != doc_id, i))
    if order == list(range(len(hits))):
        return hits
    return [dataclasses.replace(hits[i], rank=r) for r, i in enumerate(order, start=1)]


def read_turns(engine: Any, items: Sequence[tuple[str, Sequence[Turn]]], k: int = 5, retriever: str = "hybrid", **options: Any) -> list[tuple[Answer, Turn | None, list[Hit]]]:
    """Each (question, earlier turns) answered, all in one batch: the answer, the turn it makes
    (None for a question that could not be asked: an empty one gets an Answer with `error`) and
    the passages it was read from, in their ranking (what an evaluation scores retrieval on)."""
    from qa.answers.answer import answer_from_hits, check_options
    from qa.answers.retrieve import check_question

    check_options(**options)
    out: list[tuple[Answer, Turn | None, list[Hit]] | None] = [None] * len(items)
    ok: list[tuple[int, Understood]] = []
    for i, (q, turns) in enumerate(items):
        try:
            ok.append((i, understand(check_question(q), turns[-MAX_TURNS:])))
        except QAError as exc:
            out[i] = (Answer(q, None, None, 0.0, True, (), error=str(exc)), None, [])
    if ok:
        hits_all = engine.search_many([u.search for _, u in ok], k=k, retriever=retriever)
        hits_all = [prefer(h, u.prefer_doc) for h, (_, u) in zip(hits_all, ok, strict=True)]
        answers = answer_from_hits([u.standalone for _, u in ok], hits_all, engine.locator, **options)
        for (i, u), a, hits in zip(ok, answers, hits_all, strict=True):
            a = dataclasses.replace(a, question=u.question, standalone_question=u.standalone if u.depends else None, context=u.context)
            out[i] = (a, turn_of(u, a), hits)
    return [o for o in out if o is not None]


def answer_turns(engine: Any, items: Sequence[tuple[str, Sequence[Turn]]], **options: Any) -> list[tuple[Answer, Turn | None]]:
    """`read_turns` without the passages: each answer with the turn it makes."""
    return [(a, t) for a, t, _ in read_turns(engine, items, **options)]


def read_conversations(engine: Any, conversations: Sequence[Sequence[str]], **options: Any) -> list[list[tuple[Answer, list[Hit]]]]:
    """Each conversation's questions answered in order, each with its earlier turns (the n-th
    questions of all conversations read in one batch); with each answer its passages."""
    histories: list[list[Turn]] = [[] for _ in conversations]
    replies: list[list[tuple[Answer, list[Hit]]]] = [[] for _ in conversations]
    for n in range(max((len(c) for c in conversations), default=0)):
        live = [i for i, c in enumerate(conversations) if n < len(c)]
        done = read_turns(engine, [(conversations[i][n], histories[i]) for i in live], **options)
        for i, (answer, turn, hits) in zip(live, done, strict=True):
            replies[i].append((answer, hits))
            if turn is not None:
                histories[i].append(turn)
    return replies


def answer_conversations(engine: Any, conversations: Sequence[Sequence[str]], **options: Any) -> list[list[Answer]]:
    """`read_conversations` without the passages."""
    return [[a for a, _ in c] for c in read_conversations(engine, conversations, **options)]


class Conversation:
    """The chat's memory: ask questions in order; `reset()` starts a fresh topic."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.turns: list[Turn] = []

    def understand(self, question: str) -> Understood:
        return understand(question, self.turns[-MAX_TURNS:])

    def ask(self, question: str, **options: Any) -> Answer:
        answer, turn = answer_turns(self.engine, [(question, list(self.turns))], **options)[0]
        if turn is not None:
            self.turns.append(turn)
        return answer

    def reset(self) -> None:
        self.turns.clear()
