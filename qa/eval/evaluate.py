"""Evaluate retrieval and answers on a gold question set (`qa eval GOLD`).

Retrieval is scored over the answerable questions with the evidence-unit rule of
`qa.gold` (a fact found in two overlapping passages counts once); answers with SQuAD's
EM/F1, hit@1 (a gold answer inside the returned sentence) and abstention P/R/F1 (the
positive class: questions whose `answers` is []). Everything returned is plain data (dicts,
lists) so the CLI can print tables or JSON from the same result.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qa.outputs import create_new
from qa.eval import metrics as M
from qa.eval.gold import GoldItem, GoldSet, collapse_ranking, missing_docs, unit_ids

Progress = Callable[[str, int, int], None]  # (stage, done, total)
RECALL_KS = (1, 3, 5, 10)
FAIL_RANK = 5  # an answerable question whose evidence is not in the top 5 is listed as a failure


def _batches(n: int, size: int) -> list[tuple[int, int]]:
    return [(i, min(i + size, n)) for i in range(0, n, size)]


def retrieve(engine, items: Sequence[GoldItem], retriever: str, k: int, progress: Progress | None = None, batch: int = 32):  # type: ignore[no-untyped-def]
    """The top-k passages for every question (in batches, so the progress bar moves)."""
    out: list[list[Any]] = []
    for a, b in _batches(len(items), batch):
        out.extend(engine.search_many([it.question for it in items[a:b]], k=k, retriever=retriever))
        if progress:
            progress(f"{retriever}: retrieval", b, len(items))
    return out


def answer_all(engine, items: Sequence[GoldItem], retriever: str, progress: Progress | None = None, batch: int = 16):  # type: ignore[no-untyped-def]
    out: list[Any] = []
    for a, b in _batches(len(items), batch):
        out.extend(engine.ask_many([it.question for it in items[a:b]], retriever=retriever))
        if progress:
            progress(f"{retriever}: answers", b, len(items))
    return out


def score_question(item: GoldItem, hits: Sequence[Any], answer: Any | None) -> dict[str, Any]:
    """Everything measured for one question: a row of the per-question table."""
    row: dict[str, Any] = {"id": item.id, "type": item.type, "question": item.question, "answerable": item.answerable}
    ranking = collapse_ranking(item, [h.passage for h in hits]) if item.answerable else [h.passage.pid for h in hits]
    row["ranking"] = ranking
    if item.answerable:
        rel = unit_ids(item)
        row["metrics"] = M.ranking_metrics(ranking, rel, RECALL_KS)
        rank = M.first_relevant_rank(ranking, rel)
        row["evidence_rank"] = rank
        row["evidence_location"] = hits[rank - 1].passage.location if rank else None
    if answer is not None:
        got = None if answer.abstained else answer.text
        row["got"] = got
        row["sentence"] = None if answer.abstained else answer.sentence
        row["abstained"] = bool(answer.abstained)
        row["confidence"] = float(answer.confidence)
        if item.answerable:
            row["em"] = M.exact_match(got, item.answers)
            row["f1"] = M.token_f1(got, item.answers)
            row["hit@1"] = 0.0 if answer.abstained else max(M.answer_in(answer.sentence, item.answers), M.answer_in(got, item.answers))
    return row


def is_failure(row: dict[str, Any]) -> str | None:
    """Why this question counts as a failure (None when it does not)."""
    reasons = []
    if row["answerable"]:
        if row["evidence_rank"] is None or row["evidence_rank"] > FAIL_RANK:
            reasons.append(f"evidence not in top {FAIL_RANK}")
        if "hit@1" in row and not row["hit@1"]:
            reasons.append("abstained" if row.get("abstained") else "wrong answer")
    elif row.get("abstained") is False:
        reasons.append("answered an unanswerable question")
    return "; ".join(reasons) or None


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Retrieval means over answerable rows; answer metrics where answers were produced."""
    answerable = [r for r in rows if r["answerable"]]
    out: dict[str, Any] = {"questions": len(rows), "answerable": len(answerable), "unanswerable": len(rows) - len(answerable)}
    out["retrieval"] = M.mean_metrics([r["metrics"] for r in answerable])
    if rows and "abstained" in rows[0]:
        out["answers"] = {
            "exact_match": M.mean(r["em"] for r in answerable),
            "f1": M.mean(r["f1"] for r in answerable),
            "hit@1": M.mean(r["hit@1"] for r in answerable),
            "abstention": M.abstention_prf([not r["answerable"] for r in rows], [r["abstained"] for r in rows]),
        }
    return out


def by_type(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r["type"]].append(r)
    out = {}
    for kind in sorted(groups):
        g = groups[kind]
        ans = [r for r in g if r["answerable"]]
        una = [r for r in g if not r["answerable"]]
        entry: dict[str, Any] = {"questions": len(g), "answerable": len(ans)}
        if ans:
            entry["recall@5"] = M.mean(r["metrics"]["recall@5"] for r in ans)
            entry["mrr@10"] = M.mean(r["metrics"]["mrr@10"] for r in ans)
            if "hit@1" in ans[0]:
                entry["hit@1"] = M.mean(r["hit@1"] for r in ans)
                entry["f1"] = M.mean(r["f1"] for r in ans)
        if una and "abstained" in una[0]:
            entry["abstained"] = M.mean(float(r["abstained"]) for r in una)
        out[kind] = entry
    return out


def failures(items: Sequence[GoldItem], rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item, r in zip(items, rows, strict=True):
        why = is_failure(r)
        if why:
            out.append(
                {
                    "id": item.id,
                    "type": item.type,
                    "question": item.question,
                    "expected": list(item.answers),
                    "got": r.get("got"),
                    "abstained": r.get("abstained"),
                    "evidence_rank": r.get("evidence_rank"),
                    "reason": why,
                }
            )
    return out


def evaluate(
    engine,  # type: ignore[no-untyped-def]
    gold: GoldSet,
    retrievers: Sequence[str] = ("hybrid",),
    k: int = 10,
    answers: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run every retriever (and the answer layer on top of it) over the gold set."""
    items = gold.items
    notes: list[str] = []
    depth = max(k, max(RECALL_KS))
    result: dict[str, Any] = {
        "gold": str(gold.path),
        "index_dir": str(engine.index.path),
        "k": depth,
        "questions": len(items),
        "retrievers": {},
        "notes": notes,
    }
    missing = missing_docs(items, {p.path for p in engine.index.passages})
    if missing:
        shown = ", ".join(f"{d} ({n})" for d, n in sorted(missing.items())[:5]) + (" …" if len(missing) > 5 else "")
        notes.append(f"warning: {gold.path} names documents the index does not hold (questions naming them): {shown}")
    for name in retrievers:
        started = time.perf_counter()
        hits = retrieve(engine, items, name, depth, progress)
        given = answer_all(engine, items, name, progress) if answers else [None] * len(items)
        rows = [score_question(it, h, a) for it, h, a in zip(items, hits, given, strict=True)]
        result["retrievers"][name] = {
            **summarise(rows),
            "by_type": by_type(rows),
            "failures": failures(items, rows),
            "per_question": [{k_: v for k_, v in r.items() if k_ != "ranking"} for r in rows],
            "seconds": round(time.perf_counter() - started, 2),
            "_rankings": {it.id: [(pid, h.score) for pid, h in zip(r["ranking"], hs, strict=True)] for it, r, hs in zip(items, rows, hits, strict=True)},
        }
    return result


def gold_qrels(gold: GoldSet) -> dict[str, set[str]]:
    """Qrels over evidence-unit ids, matching the ids `collapse_ranking` writes into runs."""
    return {it.id: set(unit_ids(it)) for it in gold.items if it.answerable}


def run_path(path: Path, retriever: str, several: bool) -> Path:
    """FILE for one retriever; FILE with `.<retriever>` before its suffix when there are several."""
    if not several:
        return path
    return path.with_name(f"{path.stem}.{retriever}{path.suffix}")


def write_trec_run(path: Path, runs: dict[str, list[tuple[str, float]]], tag: str = "qa") -> None:
    """TREC run format: `qid Q0 docid rank score tag`, one retrieved item a line.

    Scores are written so they strictly decrease down each list (rank order is what counts;
    trec_eval and ranx sort by score), keeping ties from reordering the list.
    """
    with create_new(path) as fh:
        for qid, ranked in runs.items():
            n = len(ranked)
            for rank, (doc, _score) in enumerate(ranked, start=1):
                fh.write(f"{qid} Q0 {doc} {rank} {n - rank + 1} {tag}\n")


def write_qrels(path: Path, qrels: dict[str, set[str]]) -> None:
    """TREC qrels format: `qid 0 docid 1`, one relevant item a line."""
    with create_new(path) as fh:
        for qid, docs in qrels.items():
            for doc in sorted(docs):
                fh.write(f"{qid} 0 {doc} 1\n")
