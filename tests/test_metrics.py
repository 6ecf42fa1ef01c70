"""Metric definitions: hand-computed tiny cases, ranx as the reference on random runs, and the
official SQuAD normalisation for EM/F1. Also the gold-file relevance rule."""

from __future__ import annotations

import math
import random

import pytest

from qa.eval import metrics as M
from qa.eval.gold import Evidence, GoldItem, collapse_ranking, normalize, satisfies
from qa.records import Passage

# ------------------------------------------------------------------ ranking, by hand


def test_recall_by_hand() -> None:
    ranking = ["a", "b", "c", "d"]
    assert M.recall_at(ranking, {"b", "x"}, 1) == 0.0
    assert M.recall_at(ranking, {"b", "x"}, 2) == 0.5
    assert M.recall_at(ranking, {"b", "d"}, 4) == 1.0
    assert M.recall_at(ranking, set(), 4) == 0.0


def test_mrr_by_hand() -> None:
    assert M.mrr_at(["a", "b", "c"], {"c"}) == pytest.approx(1 / 3)
    assert M.mrr_at(["a", "b", "c"], {"b", "c"}) == pytest.approx(1 / 2)
    # beyond the cut-off counts nothing
    assert M.mrr_at([str(i) for i in range(20)], {"12"}, 10) == 0.0


def test_ndcg_by_hand() -> None:
    # relevant at ranks 2 and 4, two relevant in all: (1/log2 3 + 1/log2 5) / (1 + 1/log2 3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert M.ndcg_at(["a", "r1", "b", "r2"], {"r1", "r2"}) == pytest.approx(expected)
    # three relevant, only one retrieved at rank 1: 1 / (1 + 1/log2 3 + 1/2)
    assert M.ndcg_at(["r1", "a"], {"r1", "r2", "r3"}) == pytest.approx(1 / (1 + 1 / math.log2(3) + 0.5))
    assert M.ndcg_at(["r1"], {"r1"}) == 1.0


def test_repeated_ids_count_once() -> None:
    assert M.ndcg_at(["r", "r", "x"], {"r", "s"}) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert M.recall_at(["x", "x", "r"], {"r"}, 2) == 1.0  # the repeat does not push r out


# ------------------------------------------------------------------ ranking vs ranx


def _random_case(rng: random.Random, n_queries: int = 40):
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for q in range(n_queries):
        docs = [f"d{i}" for i in range(30)]
        rel = rng.sample(docs, rng.randint(1, 5))
        ranked = rng.sample(docs, rng.randint(1, 25))
        qrels[f"q{q}"] = {d: 1 for d in rel}
        run[f"q{q}"] = {d: float(len(ranked) - i) for i, d in enumerate(ranked)}  # distinct scores
    return qrels, run


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ranking_metrics_agree_with_ranx(seed: int) -> None:
    ranx = pytest.importorskip("ranx")
    qrels, run = _random_case(random.Random(seed))
    names = ["recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "hit_rate@5"]
    ref = ranx.evaluate(ranx.Qrels(qrels), ranx.Run(run), names, make_comparable=True)
    ours = {
        "recall@1": [], "recall@5": [], "recall@10": [], "mrr@10": [], "ndcg@10": [], "hit_rate@5": [],
    }  # fmt: skip
    for q, scores in run.items():
        ranking = sorted(scores, key=lambda d: -scores[d])
        rel = set(qrels[q])
        ours["recall@1"].append(M.recall_at(ranking, rel, 1))
        ours["recall@5"].append(M.recall_at(ranking, rel, 5))
        ours["recall@10"].append(M.recall_at(ranking, rel, 10))
        ours["mrr@10"].append(M.mrr_at(ranking, rel, 10))
        ours["ndcg@10"].append(M.ndcg_at(ranking, rel, 10))
        ours["hit_rate@5"].append(M.hit_at(ranking, rel, 5))
    for name in names:
        assert M.mean(ours[name]) == pytest.approx(ref[name], abs=1e-9), name


# ------------------------------------------------------------------ SQuAD EM / F1


def test_squad_normalize_matches_official_rules() -> None:
    assert M.squad_normalize("The  Denver Broncos!") == "denver broncos"
    assert M.squad_normalize("an apple, a pear") == "apple pear"
    # articles only as whole words; punctuation removed without leaving a space
    assert M.squad_normalize("Theatre's anthem") == "theatres anthem"
    assert M.squad_normalize("U.S.-based") == "usbased"


def test_exact_match_and_f1_by_hand() -> None:
    gold = ["Denver Broncos", "the Broncos"]
    assert M.exact_match("the denver broncos.", gold) == 1.0
    assert M.exact_match("Broncos of Denver", gold) == 0.0
    # "Broncos of Denver" vs "denver broncos": common 2, P = 2/3, R = 1 → F1 = 0.8
    assert M.token_f1("Broncos of Denver", gold) == pytest.approx(0.8)
    # best over golds: vs "broncos" P=1/3 R=1 → 0.5; vs "denver broncos" → 0.8
    assert M.token_f1("Broncos of Denver", ["the Broncos", "Denver Broncos"]) == pytest.approx(0.8)
    assert M.token_f1(None, gold) == 0.0
    assert M.token_f1("the", ["a"]) == 0.0  # both normalise to nothing: no common token


def test_f1_counts_repeated_tokens_as_a_bag() -> None:
    # pred "a b b" → tokens [b, b] after dropping article a? no: "a" is an article → ["b", "b"]
    # gold "b c" → common {b:1}: P = 1/2, R = 1/2 → F1 0.5
    assert M.token_f1("a b b", ["b c"]) == pytest.approx(0.5)


def test_hit_at_1_collapses_whitespace() -> None:
    assert M.answer_in("It killed 49\u00a0people in all.", ["49 people"]) == 1.0
    assert M.answer_in("It killed 48 people.", ["49 people"]) == 0.0
    assert M.answer_in(None, ["x"]) == 0.0


def test_abstention_prf_by_hand() -> None:
    should = [True, True, False, False, True]
    did = [True, False, True, False, True]
    out = M.abstention_prf(should, did)
    assert out["precision"] == pytest.approx(2 / 3)
    assert out["recall"] == pytest.approx(2 / 3)
    assert out["f1"] == pytest.approx(2 / 3)
    assert M.abstention_prf([True], [False])["f1"] == 0.0


# ------------------------------------------------------------------ relevance rule


def _passage(text: str, path: str = "a.txt", ordinal: int = 1) -> Passage:
    return Passage(pid=f"{path}#1:{ordinal}", doc_id=f"{path}#1", path=path, title="T", text=text, start=0, end=len(text), line_start=1, line_end=1)


def test_normalize_collapses_nbsp_and_case() -> None:
    assert normalize("Six\u00a0 Weeks\n in\u200b Peru") == "six weeks in peru"


EVIDENCE = "Clashes in Juliaca left 18 people dead on January 9, the deadliest day of the protests."


def test_whole_evidence_is_relevant_in_its_doc_only() -> None:
    unit = Evidence(EVIDENCE, "a.txt", ("18",))
    text = "Before. " + EVIDENCE.replace(" ", "  ").upper() + " After."
    assert satisfies(text, "a.txt", unit)
    assert satisfies(text, "sub/a.txt", unit)
    assert not satisfies(text, "b.txt", unit)


def test_cut_evidence_needs_half_and_the_answer() -> None:
    unit = Evidence(EVIDENCE, None, ("18 people",))
    words = EVIDENCE.split()
    head_with_answer = " ".join(words[:8])  # "... left 18 people dead on": 8 of 15 words
    assert satisfies("Earlier text. " + head_with_answer, "a.txt", unit)
    tail = " ".join(words[-8:])  # holds more than half but not the answer
    assert not satisfies(tail + " More text.", "a.txt", unit)
    short_head = " ".join(words[:5])  # under half
    assert not satisfies("x " + short_head, "a.txt", unit)


def test_no_evidence_falls_back_to_answers() -> None:
    unit = Evidence(None, None, ("5,822 metres",))
    assert satisfies("Its summit stands 5,822 metres high.", "v.md", unit)
    assert not satisfies("Its summit stands 5,821 metres high.", "v.md", unit)


def test_fact_in_two_overlapping_passages_counts_once() -> None:
    item = GoldItem(id="q1", question="?", answers=("18",), evidence=EVIDENCE)
    p1, p2, p3 = _passage("x " + EVIDENCE, ordinal=1), _passage(EVIDENCE + " y", ordinal=2), _passage("z", ordinal=3)
    ranking = collapse_ranking(item, [p3, p1, p2])
    assert ranking == [p3.pid, "q1.e0", p2.pid]
    assert M.recall_at(ranking, {"q1.e0"}, 2) == 1.0
    assert M.ndcg_at(ranking, {"q1.e0"}) == pytest.approx(1 / math.log2(3))
