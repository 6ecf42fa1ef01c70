"""The follow-up section of a gold set (`qa eval GOLD --conversations`), measured only.

Two measurements of issue 34's follow-up questions:

1. **Follow-up turns three ways.** Every conversation of the gold set (`GoldSet.turns`) is
   asked through `qa.conversation.answer_conversations`; each follow-up turn (turn 2 on) is
   then also asked alone, as typed and with no earlier turns, and its `full` question (the
   same question written out) is asked alone. Each way is scored with the gold set's own
   rules (`qa.eval.evaluate.score_question`): evidence@1 (the top passage is from the
   evidence's document and holds the evidence: the retrieval recall@1 of the answerable
   questions), the answer metrics (hit@1, exact match, token F1) and, for follow-ups the
   sources do not answer, how many were abstained on.
2. **Standalone unchanged.** The set's other questions (`GoldSet.items`, in file order) asked
   as ONE long conversation and one by one: the share whose answer (text and abstention) is
   identical. A question that stands alone must not change because questions came before it.

The passages each turn was read from come with its answer (`qa.conversation.read_conversations`),
so retrieval is scored on exactly what was read. Everything returned is plain data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from qa.eval import metrics as M
from qa.eval.evaluate import score_question
from qa.eval.gold import GoldItem, GoldSet, GoldTurn

Progress = Callable[[str, int, int], None]  # (stage, done, total)
K = 5  # passages read per question: what `qa ask` and answer_conversations read by default
WAYS = ("conversation", "alone", "full")  # asked in its conversation, as typed alone, written out alone


def score_way(items: Sequence[GoldItem], hits: Sequence[Sequence[Any]], answers: Sequence[Any]) -> dict[str, Any]:
    """One way of asking the follow-ups, scored: means over the answerable ones, abstentions over the rest."""
    rows = [score_question(it, h, a) for it, h, a in zip(items, hits, answers, strict=True)]
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    return {
        "evidence@1": M.mean(r["metrics"]["recall@1"] for r in answerable),
        "hit@1": M.mean(r["hit@1"] for r in answerable),
        "exact_match": M.mean(r["em"] for r in answerable),
        "f1": M.mean(r["f1"] for r in answerable),
        "abstained_unanswerable": M.mean(float(r["abstained"]) for r in unanswerable) if unanswerable else None,
        "per_question": [{k: v for k, v in r.items() if k not in ("ranking", "metrics")} for r in rows],
    }


def followup_section(engine: Any, gold: GoldSet, retriever: str = "hybrid", progress: Progress | None = None) -> dict[str, Any]:
    """The follow-up turns of the gold set's conversations, asked the three ways (`WAYS`)."""
    from qa.answers.answer import answer_from_hits
    from qa.answers.retrieve import check_question
    from qa.conversation import read_conversations

    convs = gold.conversations()
    replies = read_conversations(engine, [[t.item.question for t in c] for c in convs], k=K, retriever=retriever)
    followups: list[GoldTurn] = [t for c in convs for t in c if t.followup]
    in_conversation = [(h, a) for c, rs in zip(convs, replies, strict=True) for t, (a, h) in zip(c, rs, strict=True) if t.followup]
    if progress:
        progress(f"{retriever}: conversations", 1, 3)
    items = [t.item for t in followups]
    out: dict[str, Any] = {
        "conversations": len(convs),
        "followups": len(followups),
        "answerable": sum(it.answerable for it in items),
        "ways": {"conversation": score_way(items, [h for h, _ in in_conversation], [a for _, a in in_conversation])},
    }
    out["ways"]["conversation"]["read_as"] = [a.standalone_question for _, a in in_conversation]
    for step, (way, asked) in enumerate((("alone", [it.question for it in items]), ("full", [t.full for t in followups])), start=2):
        asked = [check_question(q) for q in asked]  # as answer_questions reads them
        hits = engine.search_many(asked, k=K, retriever=retriever)  # searched once: scored, then read
        out["ways"][way] = score_way(items, hits, answer_from_hits(asked, hits, engine.locator))
        if progress:
            progress(f"{retriever}: conversations", step, 3)
    return out


def standalone_unchanged(engine: Any, items: Sequence[GoldItem], retriever: str = "hybrid", progress: Progress | None = None) -> dict[str, Any]:
    """The questions asked as one long conversation (in order) and one by one: how many answers stay identical."""
    from qa.answers.answer import answer_questions
    from qa.conversation import answer_conversations

    questions = [it.question for it in items]
    together = answer_conversations(engine, [questions], k=K, retriever=retriever)[0]
    alone = answer_questions(engine, questions, k=K, retriever=retriever)
    changed = [
        {
            "id": it.id,
            "question": it.question,
            "read_as": t.standalone_question,
            "alone": None if a.abstained else a.text,
            "in_conversation": None if t.abstained else t.text,
        }
        for it, t, a in zip(items, together, alone, strict=True)
        if (t.abstained, t.text) != (a.abstained, a.text)
    ]
    if progress:
        progress(f"{retriever}: one long conversation", 1, 1)
    n = len(questions)
    return {
        "questions": n,
        "identical": n - len(changed),
        "share_identical": (n - len(changed)) / n if n else 0.0,
        "read_as_followups": sum(t.standalone_question is not None for t in together),
        "changed": changed,
    }


def evaluate_conversations(engine: Any, gold: GoldSet, retriever: str = "hybrid", progress: Progress | None = None) -> dict[str, Any]:
    """Both measurements for one retriever: the follow-up section and the standalone-unchanged share."""
    return {
        "followups": followup_section(engine, gold, retriever, progress),
        "standalone_unchanged": standalone_unchanged(engine, gold.items, retriever, progress),
    }
