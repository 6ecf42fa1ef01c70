"""Retrieval quality pinned, as Pyserini pins its regressions: a change that loses recall fails CI.

Two fixed measurements, each retriever:
- the dev gold set on the bundled corpus (tests/data/dev_gold.jsonl, measuring only — nothing
  is fitted to it), evidence-unit recall and MRR as `qa eval` reports them;
- a fixed sample of SQuAD v1.1 questions on the test articles (qa.eval.squad_split, 300 questions,
  seed 0), document recall and MRR as `qa eval --squad` reports them.
The numbers are the ones docs/evaluation.md gives. When a change moves them on purpose (a better
chunker, another model), measure again, say why in the commit, and update both places.
"""

from __future__ import annotations

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

TOLERANCE = 0.01  # int8 kernels may round differently on another CPU; a real loss is larger

# measured 2026-12-07 on the onnx-int8 encoder, default chunking, ingest version 7 (a heading
# joins the passage it heads: hybrid R@5 0.8951 -> 0.9037, dense R@1 0.4756 -> 0.5187)
DEV_GOLD = {
    "hybrid": {"recall@1": 0.6221, "recall@5": 0.9037, "recall@10": 0.9310, "mrr@10": 0.7744},
    "dense": {"recall@1": 0.5187, "recall@5": 0.8290, "recall@10": 0.9037, "mrr@10": 0.7051},
    "bm25": {"recall@1": 0.6710, "recall@5": 0.8319, "recall@10": 0.8779, "mrr@10": 0.7800},
}
SQUAD_SAMPLE = {"split": "test", "sample": 300, "seed": 0, "version": "1.1"}
SQUAD = {  # measured 2026-12-02, same settings
    "hybrid": {"recall@1": 0.8167, "recall@5": 0.9900, "recall@20": 0.9967, "mrr@10": 0.8939},
    "dense": {"recall@1": 0.7067, "recall@5": 0.9400, "recall@20": 0.9900, "mrr@10": 0.8058},
    "bm25": {"recall@1": 0.8767, "recall@5": 0.9767, "recall@20": 0.9867, "mrr@10": 0.9189},
}


def _off(got: dict[str, float], want: dict[str, float]) -> dict[str, tuple[float, float]]:
    return {k: (round(got[k], 4), v) for k, v in want.items() if abs(got[k] - v) > TOLERANCE}


def test_dev_gold_retrieval_is_pinned(seeds_engine) -> None:
    from qa.eval.evaluate import evaluate
    from qa.eval.gold import load_gold

    res = evaluate(seeds_engine, load_gold(ROOT / "tests" / "data" / "dev_gold.jsonl"), retrievers=tuple(DEV_GOLD), answers=False)
    off = {name: _off(res["retrievers"][name]["retrieval"], want) for name, want in DEV_GOLD.items()}
    assert not any(off.values()), f"(got, pinned) beyond ±{TOLERANCE}: {off}"


@pytest.mark.bench
def test_squad_sample_retrieval_is_pinned() -> None:
    from qa.eval import public as B

    bench = B.load_squad(**SQUAD_SAMPLE)  # type: ignore[arg-type]
    out = B.run_benchmark(B.open_bench_engine(bench), bench, retrievers=tuple(SQUAD), recall_ks=(1, 5, 20))
    off = {name: _off(out["retrievers"][name], want) for name, want in SQUAD.items()}
    assert not any(off.values()), f"(got, pinned) beyond ±{TOLERANCE}: {off}"


# The dev gold set's follow-up section (issue 34; tests/data/dev_gold.jsonl rows with a
# "conversation", measured only — nothing is tuned on them): the 50 follow-up turns (45
# answerable) asked in their conversation, alone as typed, and written out in full alone
# (hybrid, 5 passages read). evidence@1: the top passage holds the evidence; hit@1, f1: the
# answer metrics of `qa eval`; abstained: the share of the 5 unanswerable follow-ups refused.
# measured 2026-12-08 (stop 33), same settings as DEV_GOLD, the follow-up rules as tuned on SQuAD train
# articles and the full-pass step-3,000 reader (with the first rules and round 10: conversation
# evidence@1 0.667, hit@1 0.467, f1 0.419; alone 0.467 / 0.311 / 0.295; full 0.889 / 0.778 / 0.648)
DEV_GOLD_FOLLOWUPS = {
    "conversation": {"evidence@1": 0.7778, "hit@1": 0.6889, "exact_match": 0.5556, "f1": 0.5900, "abstained_unanswerable": 0.8},
    "alone": {"evidence@1": 0.4667, "hit@1": 0.3556, "exact_match": 0.3111, "f1": 0.3238, "abstained_unanswerable": 1.0},
    "full": {"evidence@1": 0.8889, "hit@1": 0.8444, "exact_match": 0.6667, "f1": 0.7477, "abstained_unanswerable": 0.6},
}
# issue 34's target: a question that stands alone keeps its answer in a conversation (measured
# 2026-12-08, stop 33: 79 of 80 identical; with the first rules and round 10: 80 of 80)
STANDALONE_UNCHANGED_TARGET = 0.95


@pytest.fixture(scope="module")
def dev_gold_conversations(seeds_engine):  # type: ignore[no-untyped-def]
    from qa.eval.gold_conversations import evaluate_conversations
    from qa.eval.gold import load_gold

    return evaluate_conversations(seeds_engine, load_gold(ROOT / "tests" / "data" / "dev_gold.jsonl"), "hybrid")


def test_dev_gold_followups_are_pinned(dev_gold_conversations) -> None:  # type: ignore[no-untyped-def]
    ways = dev_gold_conversations["followups"]["ways"]
    off = {way: _off(ways[way], want) for way, want in DEV_GOLD_FOLLOWUPS.items()}
    assert not any(off.values()), f"(got, pinned) beyond ±{TOLERANCE}: {off}"


def test_a_long_conversation_leaves_standalone_answers_unchanged(dev_gold_conversations) -> None:  # type: ignore[no-untyped-def]
    """The 80 questions that stand alone, asked as one conversation in file order, get the
    answers they get one by one (text and abstention) — at least 95% of them."""
    su = dev_gold_conversations["standalone_unchanged"]
    assert su["questions"] == 80
    assert su["share_identical"] >= STANDALONE_UNCHANGED_TARGET, [(c["id"], c["read_as"], c["alone"], c["in_conversation"]) for c in su["changed"]]
