"""Public benchmarks beyond SQuAD dev: SQuADShifts loading, and questions asked with their own
article left out of the passages (where "not found" is the right answer)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.eval import public as B


def _shifts(folder: Path) -> Path:
    """A SQuAD-format file in the SQuADShifts layout: two "products" of two reviews each."""
    data = {
        "version": "1.0",
        "data": [
            {
                "title": "kettle",
                "paragraphs": [
                    {"context": "The kettle boils a litre of water in ninety seconds. The lid is stiff.", "qas": [{"id": "k1", "question": "How fast does the kettle boil a litre?", "answers": [{"text": "ninety seconds", "answer_start": 38}]}]},
                    {"context": "Mine rusted after two months of daily use, sadly.", "qas": [{"id": "k2", "question": "When did the kettle rust?", "answers": [{"text": "after two months", "answer_start": 12}]}]},
                ],
            },
            {
                "title": "toaster",
                "paragraphs": [
                    {"context": "The toaster has four slots and a bagel setting.", "qas": [{"id": "t1", "question": "How many slots does the toaster have?", "answers": [{"text": "four", "answer_start": 16}]}]},
                    {"context": "Crumbs collect in the tray, which slides out for cleaning.", "qas": [{"id": "t2", "question": "Where do crumbs collect?", "answers": [{"text": "in the tray", "answer_start": 15}]}]},
                ],
            },
        ],
    }
    (folder / "squadshifts").mkdir(parents=True)
    path = folder / "squadshifts" / "amazon_reviews_v1.0.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return folder


def test_a_squadshifts_set_loads_paragraphs_questions_and_their_articles(tmp_path: Path) -> None:
    bench = B.load_squadshifts(_shifts(tmp_path), "amazon_reviews", sample=0)
    assert len(bench.documents) == 4 and set(bench.queries) == {"k1", "k2", "t1", "t2"}
    assert bench.answers["t1"] == ["four"]
    assert bench.query_article == {"k1": "kettle", "k2": "kettle", "t1": "toaster", "t2": "toaster"}
    assert sorted(bench.article_of.values()) == ["kettle", "kettle", "toaster", "toaster"]
    assert bench.qrels["k2"] == {next(d.path for d in bench.documents if "rusted" in d.text)}
    assert len(B.load_squadshifts(_shifts(tmp_path / "b"), "amazon_reviews", sample=2, seed=1).queries) == 2
    with pytest.raises(Exception, match="unknown SQuADShifts set"):
        B.load_squadshifts(tmp_path, "reddit")


@pytest.mark.slow
def test_a_question_asked_with_its_article_left_out_sees_no_passage_of_it(tmp_path: Path) -> None:
    bench = B.load_squadshifts(_shifts(tmp_path), "amazon_reviews", sample=0)
    engine = B.open_bench_engine(bench, index_dir=tmp_path / "idx")
    normal = engine.search_many([bench.queries["k1"]], k=2)[0]
    assert bench.article_of[normal[0].passage.path] == "kettle"  # its own review is found first
    (left,) = B.hits_leaving_out(engine, bench, ["k1"], k=2)
    assert len(left) == 2 and {bench.article_of[h.passage.path] for h in left} == {"toaster"}
    assert [h.rank for h in left] == [1, 2]
    # scored as unanswerable: the right answer is "not found"
    result = B.run_answers(engine, bench, leave_out_article=True)
    assert result["unanswerable"] == 4 and "has_answer" in result
    assert result["abstention"]["unanswerable"] == 4.0
