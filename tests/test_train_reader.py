"""tools/train_reader.py's data and weight helpers: the swapped-name and opposite unanswerable
questions it trains on, and the weight averaging that gives a round one more candidate."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import train_reader as T  # noqa: E402

PARAGRAPHS = [
    {"title": "Normans", "text": "The Normans conquered England in 1066. In Normandy they kept their French tongue. However, they were few."},
    {"title": "Warsaw", "text": "Warsaw became the capital of Poland in 1596. The Vistula river crosses Warsaw, and however wide it is, bridges span it."},
    {"title": "Rhine", "text": "The Rhine flows from Switzerland to the North Sea. Its length is 1,230 kilometres."},
]


def test_the_name_pool_holds_names_and_numbers_not_sentence_openers() -> None:
    pool = T.name_pool(PARAGRAPHS)
    assert {"Poland", "Vistula", "1596"} <= set(pool["Warsaw"])
    assert "However" not in pool["Normans"]  # written "however" in lower case elsewhere
    assert "1,230" in pool["Rhine"]


def test_a_swapped_question_names_what_its_paragraph_never_mentions() -> None:
    pool = T.name_pool(PARAGRAPHS)
    paragraph = PARAGRAPHS[0]["text"]
    q = {"question": "When did the Normans conquer England?", "title": "Normans"}
    seen = set()
    for seed in range(30):
        swapped = T.swapped_question(q, paragraph, pool, random.Random(seed))
        assert swapped is not None and swapped != q["question"]
        old = set(q["question"].rstrip("?").split())
        new = set(swapped.rstrip("?").split())
        assert len(old - new) == 1 and len(new - old) == 1  # one word replaced
        (word,) = new - old
        assert word.lower() not in paragraph.lower() and word not in pool["Normans"]
        seen.add(word)
    assert len(seen) > 1
    # the same seed gives the same question (training is reproducible)
    assert T.swapped_question(q, paragraph, pool, random.Random(4)) == T.swapped_question(q, paragraph, pool, random.Random(4))


def test_a_same_article_swap_takes_a_name_of_another_paragraph_of_that_article() -> None:
    paragraphs = [*PARAGRAPHS, {"title": "Normans", "text": "Later the Normans ruled Sicily and fought in Antioch."}]
    pool = T.name_pool(paragraphs)
    paragraph = PARAGRAPHS[0]["text"]
    q = {"question": "When did the Normans conquer England?", "title": "Normans"}
    words = set()
    for seed in range(30):
        swapped = T.swapped_question(q, paragraph, pool, random.Random(seed), same_article=True)
        assert swapped is not None
        (word,) = set(swapped.rstrip("?").split()) - set(q["question"].rstrip("?").split())
        words.add(word)
    assert words == {"Sicily", "Antioch"}  # the article's names the paragraph never mentions
    # an article with no such name falls back to the other articles
    alone = T.swapped_question(q, paragraph, T.name_pool(PARAGRAPHS), random.Random(0), same_article=True)
    assert alone is not None and not {"Sicily", "Antioch"} & set(alone.split())


def test_a_year_is_swapped_for_a_year_and_a_question_without_names_is_left_alone() -> None:
    pool = T.name_pool(PARAGRAPHS)
    paragraph = PARAGRAPHS[0]["text"]
    q = {"question": "Who conquered England in 1066?", "title": "Normans"}
    words = {T.swapped_question(q, paragraph, pool, random.Random(s)) for s in range(40)}
    assert "Who conquered England in 1596?" in words
    assert not any("1,230" in w for w in words if w)
    assert T.swapped_question({"question": "what did they keep?", "title": "Normans"}, paragraph, pool, random.Random(0)) is None


def test_an_opposite_question_asks_what_its_paragraph_does_not_state() -> None:
    paragraph = "Warsaw is the largest city of Poland. The first bridge over the Vistula was built in 1568."
    q = {"question": "Which is the largest city of Poland?", "title": "Warsaw"}
    assert T.opposite_question(q, paragraph, random.Random(0)) == "Which is the smallest city of Poland?"
    both = {T.opposite_question({"question": "When was the first bridge over the Vistula, the largest river?"}, paragraph, random.Random(s)) for s in range(20)}
    assert both == {"When was the last bridge over the Vistula, the largest river?", "When was the first bridge over the Vistula, the smallest river?"}
    # left alone: an opposite the paragraph states (it could answer), a word the paragraph does
    # not use, a capitalised name ("Middle East"), a quantity ("most cities"), a compound
    assert T.opposite_question(q, paragraph + " Hel is the smallest town.", random.Random(0)) is None
    assert T.opposite_question({"question": "Which is the oldest city of Poland?"}, paragraph, random.Random(0)) is None
    east = "Trade with the Middle East and the east grew; most cities in the east were modern-day ports."
    for question in ("What grew with the Middle East?", "Where were most cities?", "What were modern-day ports?"):
        assert T.opposite_question({"question": question}, east, random.Random(0)) is None
    assert T.opposite_question({"question": "What grew in the east?"}, east, random.Random(0)) == "What grew in the west?"


@pytest.mark.slow
def test_the_average_of_a_model_with_itself_is_that_model(tmp_path: Path) -> None:
    """`average` reads int8 files and checkpoints alike and writes a checkpoint that loads
    strictly: the mean of the shipped file and its own checkpoint is the shipped weights."""
    from qa.answers.reader import MODEL_FILE

    once = T.average(T.build_parser().parse_args(["average", str(MODEL_FILE), "--out", str(tmp_path / "one")]))
    twice = T.average(T.build_parser().parse_args(["average", str(MODEL_FILE), str(once), "--out", str(tmp_path / "two")]))
    shipped, mean = T.dequantized_state(MODEL_FILE), T.model_state(twice)
    assert set(shipped) <= set(mean)
    for k, v in shipped.items():
        np.testing.assert_allclose(mean[k], v, rtol=0, atol=1e-6)


def test_a_full_pass_plan_reads_every_question_once_per_epoch_in_a_seeded_order() -> None:
    plan = T.pass_plan(1000, epochs=2, seed=31, chunk=64)
    for epoch in (0, 1):
        seen = [i for e, _, idx in plan if e == epoch for i in idx]
        assert sorted(seen) == list(range(1000))  # each question once in each epoch
    first = [i for e, _, idx in plan if e == 0 for i in idx]
    second = [i for e, _, idx in plan if e == 1 for i in idx]
    assert first != second and first != list(range(1000))  # shuffled, and anew each epoch
    assert T.pass_plan(1000, epochs=2, seed=31, chunk=64) == plan  # a resumed run finds the same plan
    assert T.pass_plan(1000, epochs=2, seed=32, chunk=64) != plan


def test_the_learning_rate_warms_up_then_decays_to_zero_by_share_of_the_pass() -> None:
    assert T.lr_factor(0.0) < 0.01
    assert T.lr_factor(T.WARMUP_SHARE / 2) == pytest.approx(0.5)
    assert T.lr_factor(T.WARMUP_SHARE) == pytest.approx(1.0)
    assert T.lr_factor(0.5) == pytest.approx(0.5 / (1 - T.WARMUP_SHARE))
    assert T.lr_factor(1.0) == 0.0
    xs = [T.lr_factor(i / 100) for i in range(int(100 * T.WARMUP_SHARE), 101)]
    assert xs == sorted(xs, reverse=True)


def test_chunk_batches_group_similar_lengths_and_cover_every_group() -> None:
    groups = [{"len": n} for n in random.Random(0).sample(range(1000), 100)]
    batches = T.chunk_batches(groups, 8, random.Random(5))
    assert sorted(i for b in batches for i in b) == list(range(100))
    assert all(len(b) == 8 for b in batches[:-1]) or sum(len(b) < 8 for b in batches) == 1
    spans = [max(groups[i]["len"] for i in b) - min(groups[i]["len"] for i in b) for b in batches]
    assert max(spans) < 200  # neighbours by length, not a random mix of 0..1000
    assert T.chunk_batches(groups, 8, random.Random(5)) == batches


def test_the_full_training_set_holds_squad_train_and_only_dev_training_articles() -> None:
    from qa.eval import squad_split

    root = squad_split.bench_dir()
    if not (root / T.TRAIN_FILE).is_file() or not (root / "squad-dev-v2.0.questions.jsonl").is_file():
        pytest.skip(f"SQuAD train/dev files not in {root} (set QA_BENCH_DIR)")
    questions, paragraphs = T.full_training_set(None)
    dev = squad_split.load()
    held_out = set(dev.articles("validation")) | set(dev.articles("test"))
    titles = {q["title"] for q in questions}
    assert not titles & held_out  # never a validation or test article
    assert sum(q["title"].startswith("train:") for q in questions) == 83_222
    assert sum(q["is_impossible"] for q in questions) > 3000  # v2.0's real unanswerable ones, training articles
    text = {p["pid"]: p["text"] for p in paragraphs}
    for q in questions[::997]:
        for a, s in zip(q["answers"], q["answer_starts"], strict=True):
            assert text[q["pid"]][s : s + len(a)] == a


def test_quantised_weights_leave_room_so_every_cpu_kernel_computes_the_same(tmp_path: Path) -> None:
    """7-bit weights: uint8 × weight pair sums stay inside int16 (255 × 64 × 2 < 32,767), so a
    CPU without VNNI (vpmaddubsw, saturating) and one with it give the same integers."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    w = np.random.default_rng(0).normal(size=(64, 32)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 32])],
        [numpy_helper.from_array(w, "w")],
    )
    fp32 = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(fp32))

    def weight_range(reduce_range: bool) -> int:
        out = tmp_path / f"q-{reduce_range}.onnx"
        T.quantise(fp32, out, per_channel=True, reduce_range=reduce_range)
        q = [numpy_helper.to_array(i) for i in onnx.load(str(out)).graph.initializer if i.name.endswith("_quantized")]
        return int(max(np.abs(a.astype(np.int32)).max() for a in q))

    assert weight_range(True) <= 64
    assert weight_range(False) == 127  # what rounds 1-10 shipped: full range, CPU-dependent
