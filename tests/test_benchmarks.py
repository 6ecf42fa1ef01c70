"""Public-benchmark plumbing (qa/eval/public.py) on tiny SQuAD-layout files written here."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from qa.eval import public as B

PARAGRAPHS = [
    {"pid": "Andes__000", "title": "Andes", "text": "The Andes are the longest continental mountain range in the world, about 7,000 km long."},
    {"pid": "Andes__001", "title": "Andes", "text": "Aconcagua, in Argentina, is the highest peak of the Andes at 6,961 metres."},
    {"pid": "Titicaca__000", "title": "Titicaca", "text": "Lake Titicaca lies on the border of Peru and Bolivia at 3,812 metres above sea level."},
]
QUESTIONS = [
    {"id": "q1", "question": "How long are the Andes?", "answers": ["about 7,000 km", "7,000 km"], "is_impossible": False, "title": "Andes", "pid": "Andes__000"},
    {"id": "q2", "question": "What is the highest peak of the Andes?", "answers": ["Aconcagua"], "is_impossible": False, "title": "Andes", "pid": "Andes__001"},
    {"id": "q3", "question": "Who first climbed Aconcagua?", "answers": [], "is_impossible": True, "title": "Andes", "pid": "Andes__001"},
    {"id": "q4", "question": "On which border does Lake Titicaca lie?", "answers": ["Peru and Bolivia"], "is_impossible": False, "title": "Titicaca", "pid": "Titicaca__000"},
]


def write_squad(folder: Path, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    questions = [q for q in QUESTIONS if version == "2.0" or not q["is_impossible"]]
    for name, rows in ((B.SQUAD_PARAGRAPHS, PARAGRAPHS), (B.SQUAD_QUESTIONS, questions)):
        path = folder / name.format(version=version)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def test_squad2_unanswerable_questions_have_no_relevant_document_and_no_answer(tmp_path: Path) -> None:
    bench = B.load_squad(write_squad(tmp_path, "2.0"), split="all", sample=10, version="2.0")
    assert bench.name == "squad-v2.0-dev-all" and set(bench.queries) == {"q1", "q2", "q3", "q4"}
    assert "q3" not in bench.qrels and bench.answers["q3"] == []
    assert bench.qrels["q2"] == {"Andes__001"} and bench.answers["q2"] == ["Aconcagua"]


def test_unknown_squad_version_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(B.UsageError, match="unknown SQuAD version"):
        B.load_squad(write_squad(tmp_path, "2.0"), version="3.0")


def test_retrieval_scores_skip_questions_nothing_answers() -> None:
    runs = {"q1": [("a", 1.0), ("b", 0.5)], "q3": [("b", 1.0)]}
    scores = B.score_runs(runs, {"q1": {"b"}}, (1, 5))
    assert scores["recall@1"] == 0.0 and scores["recall@5"] == 1.0 and scores["mrr@10"] == 0.5


class ScriptedEngine:
    """Answers by a fixed table: question -> answer text, or None to abstain."""

    def __init__(self, table: dict[str, str | None]) -> None:
        self.table = table

    def ask_many(self, questions, **_):  # type: ignore[no-untyped-def]
        return [
            SimpleNamespace(abstained=self.table[q] is None, text=self.table[q], sentence=self.table[q], confidence=0.0 if self.table[q] is None else 1.0)
            for q in questions
        ]


def test_squad2_answers_score_abstention_as_the_official_script_does(tmp_path: Path) -> None:
    bench = B.load_squad(write_squad(tmp_path, "2.0"), split="all", sample=10, version="2.0")
    q = bench.queries
    engine = ScriptedEngine({q["q1"]: "7,000 km", q["q2"]: None, q["q3"]: None, q["q4"]: "Chile"})
    out = B.run_answers(engine, bench)
    assert out["exact_match"] == pytest.approx(100 * 2 / 4)  # q1 right, q3 rightly abstained
    assert out["hit@1"] == pytest.approx(1 / 3)  # over the three answerable questions
    assert out["unanswerable"] == 1 and out["abstained"] == 2
    assert out["abstention"]["precision"] == pytest.approx(0.5) and out["abstention"]["recall"] == 1.0
    engine.table[q["q3"]] = "Edward FitzGerald"  # answering what nothing answers scores 0
    assert B.run_answers(engine, bench)["exact_match"] == pytest.approx(100 * 1 / 4)


def test_squad11_has_no_abstention_block(tmp_path: Path) -> None:
    bench = B.load_squad(write_squad(tmp_path, "1.1"), split="all", sample=10)
    q = bench.queries
    out = B.run_answers(ScriptedEngine({q["q1"]: "7,000 km", q["q2"]: "Aconcagua", q["q4"]: None}), bench)
    assert "abstention" not in out and out["hit@1"] == pytest.approx(2 / 3)


@pytest.mark.slow
def test_squad2_end_to_end_on_the_real_pipeline(tmp_path: Path) -> None:
    bench = B.load_squad(write_squad(tmp_path / "bench", "2.0"), split="all", sample=10, version="2.0")
    engine = B.open_bench_engine(bench, tmp_path / "idx")
    out = B.run_benchmark(engine, bench, ("hybrid", "bm25"), (1, 5), answers=True)
    assert out["retrievers"]["bm25"]["recall@5"] == 1.0  # three paragraphs: every answerable one is found
    assert out["answers"]["questions"] == 4 and "abstention" in out["answers"]
