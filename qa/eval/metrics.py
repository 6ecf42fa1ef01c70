"""Ranking and answer metrics, with the standard definitions so our numbers can be checked.

Ranking metrics use binary relevance and the trec_eval / ranx definitions:
    Recall@k  = |relevant ∩ top k| / |relevant|
    MRR@k     = 1 / rank of the first relevant item in the top k (0 when none)
    nDCG@k    = Σ_{i≤k} rel_i / log2(i + 1)  ÷  the same sum for the ideal ranking
A ranking is a list of item ids, best first; an id repeated later in the list is ignored
(it cannot be relevant twice). `tests/test_metrics.py` compares these against ranx.

Answer metrics follow the official SQuAD v1.1 evaluation script: answers are normalised
(lower case, punctuation and the articles a/an/the removed, whitespace collapsed), exact match
and bag-of-tokens F1 are each the maximum over the gold answers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from qa.values import normalize_answer

# ------------------------------------------------------------------ ranking


def _dedup(ranking: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ranking))


def recall_at(ranking: Sequence[str], relevant: Iterable[str], k: int) -> float:
    rel = set(relevant)
    if not rel:
        return 0.0
    return len(rel.intersection(_dedup(ranking)[:k])) / len(rel)


def hit_at(ranking: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """1 when any relevant item is in the top k (ranx's hit_rate, DPR's top-k accuracy)."""
    rel = set(relevant)
    return float(any(item in rel for item in _dedup(ranking)[:k]))


def first_relevant_rank(ranking: Sequence[str], relevant: Iterable[str]) -> int | None:
    """1-based rank of the first relevant item, None when no relevant item was retrieved."""
    rel = set(relevant)
    for rank, item in enumerate(_dedup(ranking), start=1):
        if item in rel:
            return rank
    return None


def mrr_at(ranking: Sequence[str], relevant: Iterable[str], k: int = 10) -> float:
    rank = first_relevant_rank(_dedup(ranking)[:k], relevant)
    return 0.0 if rank is None else 1.0 / rank


def ndcg_at(ranking: Sequence[str], relevant: Iterable[str], k: int = 10) -> float:
    rel = set(relevant)
    if not rel:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, item in enumerate(_dedup(ranking)[:k], start=1) if item in rel)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(rel), k) + 1))
    return dcg / ideal


def ranking_metrics(
    ranking: Sequence[str], relevant: Iterable[str], recall_ks: Sequence[int] = (1, 3, 5, 10)
) -> dict[str, float]:
    """Recall@k for each k, MRR@10 and nDCG@10 of one ranking."""
    rel = set(relevant)
    out = {f"recall@{k}": recall_at(ranking, rel, k) for k in recall_ks}
    out["mrr@10"] = mrr_at(ranking, rel, 10)
    out["ndcg@10"] = ndcg_at(ranking, rel, 10)
    return out


def mean(values: Iterable[float]) -> float:
    vals = list(values)
    return sum(vals) / len(vals) if vals else 0.0


def mean_metrics(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """Average each metric over the rows (every row has the same keys)."""
    if not rows:
        return {}
    return {key: mean(r[key] for r in rows) for key in rows[0]}


# ------------------------------------------------------------------ answers (SQuAD)

# the official SQuAD normalisation lives with the runtime's answer comparison (qa.values), which
# merges equal answers by it: scoring and merging must agree on what "the same answer" is
squad_normalize = normalize_answer


def exact_match(prediction: str | None, gold: Sequence[str]) -> float:
    if prediction is None or not gold:
        return 0.0
    pred = squad_normalize(prediction)
    return float(any(pred == squad_normalize(g) for g in gold))


def _f1(prediction: str, gold: str) -> float:
    pred_tokens = squad_normalize(prediction).split()
    gold_tokens = squad_normalize(gold).split()
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str | None, gold: Sequence[str]) -> float:
    if prediction is None or not gold:
        return 0.0
    return max(_f1(prediction, g) for g in gold)


def collapse(text: str) -> str:
    """Whitespace collapsed (no-break spaces included) and case folded: for containment tests."""
    return " ".join(text.replace("\u00a0", " ").split()).casefold()


def answer_in(sentence: str | None, gold: Sequence[str]) -> float:
    """hit@1: 1 when a gold answer stands inside the returned sentence (collapsed, any case)."""
    if not sentence:
        return 0.0
    hay = collapse(sentence)
    return float(any(collapse(g) and collapse(g) in hay for g in gold))


def abstention_prf(should_abstain: Sequence[bool], abstained: Sequence[bool]) -> dict[str, float]:
    """Precision, recall and F1 of abstaining, the positive class being "should abstain"."""
    tp = sum(1 for s, a in zip(should_abstain, abstained, strict=True) if s and a)
    predicted = sum(1 for a in abstained if a)
    actual = sum(1 for s in should_abstain if s)
    p = tp / predicted if predicted else 0.0
    r = tp / actual if actual else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1, "abstained": float(predicted), "unanswerable": float(actual)}
