"""`qa eval`: the gold loader's errors, the evaluation on a fake engine (exact numbers), the
real pipeline on the small corpus, and TREC run/qrels files that ranx reads back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from qa.eval import evaluate as E
from qa.cli import run
from qa.errors import UsageError
from qa.eval.gold import load_gold
from qa.records import Answer, Hit, Passage

from conftest import write_corpus

# ------------------------------------------------------------------ gold files


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_gold_loader_reports_the_bad_line(tmp_path: Path) -> None:
    good = {"id": "a", "question": "Q?", "answers": ["x"]}
    path = _write(tmp_path / "g.jsonl", [good, "", "{not json"])
    with pytest.raises(UsageError, match=r"g\.jsonl:3: not valid JSON"):
        load_gold(path)
    _write(path, [good, {"id": "b", "question": "Q?", "answers": "x"}])
    with pytest.raises(UsageError, match=r":2: 'answers' must be a list"):
        load_gold(path)
    _write(path, [good, {"id": "a", "question": "R?", "answers": []}])
    with pytest.raises(UsageError, match=r":2: duplicate id 'a' \(first on line 1\)"):
        load_gold(path)
    _write(path, [{"id": 3, "question": "  ", "answers": []}])
    with pytest.raises(UsageError, match=r":1: 'question' is empty"):
        load_gold(path)


def test_gold_conversation_rows_are_kept_apart(tmp_path: Path) -> None:
    """Rows naming a conversation are its turns (file order), never among the items the
    existing metrics average; a conversation of one row is just its first turn."""
    rows = [
        {"id": "a", "question": "How high is Misti?", "answers": ["5,822 metres"]},
        {"id": "k1", "conversation": "k", "question": "Who founded the herd?", "answers": ["Ana Ruiz"]},
        {"id": "solo", "conversation": "s", "turn": 1, "question": "Where is Puno?", "answers": []},
        {"id": "k2", "conversation": "k", "turn": 2, "question": "When?", "full": "When was the herd founded?", "answers": []},
        {"id": "b", "question": "How many alpacas?", "answers": ["340"]},
    ]
    gold = load_gold(_write(tmp_path / "g.jsonl", rows))
    assert [it.id for it in gold.items] == ["a", "b"]
    assert [[(t.item.id, t.turn, t.full, t.followup) for t in c] for c in gold.conversations()] == [
        [("k1", 1, "Who founded the herd?", False), ("k2", 2, "When was the herd founded?", True)],
        [("solo", 1, "Where is Puno?", False)],
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"id": "x", "conversation": 7, "question": "Q?", "answers": []}, r":2: 'conversation' must be a non-empty string \(the conversation's id\), not int"),
        ({"id": "x", "conversation": " ", "question": "Q?", "answers": []}, r":2: 'conversation' must be a non-empty string"),
        ({"id": "x", "conversation": "k", "question": " ", "full": "Q?", "answers": []}, r":2: 'question' is empty"),
        ({"id": "x", "conversation": "k", "question": "Why?", "answers": []}, r":2: missing 'full'"),
        ({"id": "x", "conversation": "k", "question": "Why?", "full": "", "answers": []}, r":2: 'full' is empty"),
        ({"id": "x", "conversation": "k", "turn": 3, "question": "Why?", "full": "Why Q?", "answers": []}, r":2: 'turn' is 3 but this is question 2 of conversation 'k'"),
        ({"id": "k1", "conversation": "j", "question": "Q?", "answers": []}, r":2: duplicate id 'k1' \(first on line 1\)"),
    ],
)
def test_malformed_conversation_rows_are_refused(tmp_path: Path, row: dict[str, object], message: str) -> None:
    first = {"id": "k1", "conversation": "k", "question": "Who founded the herd?", "answers": []}
    with pytest.raises(UsageError, match=message):
        load_gold(_write(tmp_path / "g.jsonl", [first, row]))


def test_cli_conversation_errors_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _write(tmp_path / "bad.jsonl", [{"id": "1", "conversation": ["k"], "question": "Q?", "answers": []}])
    plain = _write(tmp_path / "plain.jsonl", [{"id": "1", "question": "Q?", "answers": []}])
    for argv, expected in (
        (["eval", str(bad)], "bad.jsonl:1: 'conversation' must be a non-empty string"),
        (["eval", str(plain), "--conversations"], "holds no conversations"),
        (["eval", str(plain), "--conversations", "--no-answers"], "--conversations measures answers"),
        (["eval", "--beir", str(tmp_path), "--conversations"], "--conversations applies to a GOLD file only"),
    ):
        assert run(argv) == 2
        err = capsys.readouterr().err
        assert expected in err, argv
        assert err.count("\n") == 1 and "Traceback" not in err


def test_gold_units_from_evidence_all(tmp_path: Path) -> None:
    row = {
        "id": "c1", "question": "How many died?", "answers": ["18", "17"], "type": "conflict",
        "evidence": "18 people died", "doc": "a.txt",
        "evidence_all": [
            {"doc": "a.txt", "evidence": "18  people\u00a0died", "answer": "18"},  # same as evidence
            {"doc": "b.txt", "evidence": "17 died", "answer": "17"},
        ],
    }  # fmt: skip
    item = load_gold(_write(tmp_path / "g.jsonl", [row])).items[0]
    assert [(u.doc, u.text) for u in item.units] == [("a.txt", "18 people died"), ("b.txt", "17 died")]
    assert item.type == "conflict" and item.answerable


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such gold file"),
        ('{"id": "a", "question": "Q?", "answers": []}\n{"id": "b", "question": \n', "gold.jsonl:2: not valid JSON"),
    ],
)
def test_cli_gold_errors_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str) -> None:
    path = tmp_path / "gold.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert run(["eval", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_cli_needs_exactly_one_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["eval"]) == 2
    assert "exactly one of GOLD, --squad, --squadshifts NAME, --followups SET or --beir" in capsys.readouterr().err
    assert run(["eval", "--squad", "--squadshifts", "new_wiki"]) == 2
    assert "exactly one of" in capsys.readouterr().err
    assert run(["eval", "--squad", "--followups", "test"]) == 2
    assert "exactly one of" in capsys.readouterr().err
    assert run(["eval", "--beir", "/nonexistent/beir", "--leave-out-article"]) == 2
    assert "--leave-out-article applies to --squad and --squadshifts only" in capsys.readouterr().err
    assert run(["eval", "--beir", "/nonexistent/beir"]) == 2
    assert "no such folder" in capsys.readouterr().err


# ------------------------------------------------------------------ evaluate() on a fake engine


def _p(path: str, text: str) -> Passage:
    return Passage(pid=f"{path}#1:1", doc_id=f"{path}#1", path=path, title=path, text=text, start=0, end=len(text), line_start=1, line_end=1)


PASSAGES = {
    "alpaca": _p("alpaca.txt", "A herd in Puno counted 340 animals in 2021."),
    "misti": _p("volcano.md", "Its summit stands 5,822 metres above sea level."),
    "rail": _p("rail.txt", "The railway crosses the La Raya pass at 4,313 metres."),
}


@dataclass
class FakeIndex:
    path: Path = Path("/fake/index")
    passages: tuple = tuple(PASSAGES.values())


class FakeEngine:
    """Fixed rankings and answers, so every metric can be computed by hand."""

    index = FakeIndex()
    rankings = {
        "How many alpacas in the Puno herd?": ["alpaca", "misti", "rail"],  # evidence rank 1
        "How high is Misti?": ["rail", "alpaca", "misti"],  # evidence rank 3
        "How high is the La Raya pass?": ["misti", "rail", "alpaca"],  # rank 2
        "Who won the 2022 World Cup?": ["rail", "misti", "alpaca"],
    }
    answers = {
        "How many alpacas in the Puno herd?": ("340 animals", "A herd in Puno counted 340 animals in 2021."),
        "How high is Misti?": ("4,313 metres", "The railway crosses the La Raya pass at 4,313 metres."),
        "How high is the La Raya pass?": None,  # abstains on an answerable question
        "Who won the 2022 World Cup?": None,  # abstains correctly
    }

    def search_many(self, questions, k=5, retriever="hybrid"):  # type: ignore[no-untyped-def]
        return [[Hit(PASSAGES[n], 1.0 / r, r) for r, n in enumerate(self.rankings[q][:k], start=1)] for q in questions]

    def ask_many(self, questions, **_):  # type: ignore[no-untyped-def]
        out = []
        for q in questions:
            a = self.answers[q]
            out.append(Answer(q, a and a[0], a and a[1], 0.9 if a else 0.1, a is None, ()))
        return out


def _fake_gold(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "gold.jsonl",
        [
            {"id": "1", "question": "How many alpacas in the Puno herd?", "answers": ["340"], "evidence": "counted 340 animals", "doc": "alpaca.txt", "type": "factoid"},
            {"id": "2", "question": "How high is Misti?", "answers": ["5,822 metres"], "evidence": "Its summit stands 5,822 metres above sea level.", "type": "factoid"},
            {"id": "3", "question": "How high is the La Raya pass?", "answers": ["4,313 metres"], "type": "paraphrase"},
            {"id": "4", "question": "Who won the 2022 World Cup?", "answers": [], "type": "offtopic"},
        ],
    )


def test_evaluate_numbers_on_a_fake_engine(tmp_path: Path) -> None:
    result = E.evaluate(FakeEngine(), load_gold(_fake_gold(tmp_path)), ["hybrid"], k=10)
    r = result["retrievers"]["hybrid"]
    ret = r["retrieval"]
    assert ret["recall@1"] == pytest.approx(1 / 3)
    assert ret["recall@3"] == pytest.approx(1.0)
    assert ret["mrr@10"] == pytest.approx((1 + 1 / 3 + 1 / 2) / 3)
    ans = r["answers"]
    assert ans["exact_match"] == 0.0  # "340 animals" ≠ "340"
    # "340 animals" vs "340": P=1/2, R=1 → 2/3; "4,313 metres" vs "5,822 metres": 1 of 2 → 1/2
    assert ans["f1"] == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)
    assert ans["hit@1"] == pytest.approx(1 / 3)
    assert ans["abstention"]["precision"] == pytest.approx(0.5)
    assert ans["abstention"]["recall"] == 1.0
    assert r["by_type"]["factoid"]["questions"] == 2
    assert r["by_type"]["offtopic"]["abstained"] == 1.0
    fails = {f["id"]: f for f in r["failures"]}
    assert set(fails) == {"2", "3"}
    assert fails["2"]["evidence_rank"] == 3 and fails["2"]["got"] == "4,313 metres"
    assert fails["3"]["abstained"] is True


def test_gold_documents_the_index_does_not_hold_are_named(tmp_path: Path) -> None:
    gold = _write(
        tmp_path / "gold.jsonl",
        [
            {"id": "1", "question": "How many alpacas in the Puno herd?", "answers": ["340"], "evidence": "counted 340 animals", "doc": "alpaca.txt"},
            {"id": "2", "question": "How high is Misti?", "answers": ["5,822 metres"], "evidence": "5,822 metres", "doc": "nope.txt"},
        ],
    )
    result = E.evaluate(FakeEngine(), load_gold(gold), ["hybrid"], k=10, answers=False)
    assert [n for n in result["notes"] if "nope.txt (1)" in n and "alpaca" not in n], result["notes"]
    assert not E.evaluate(FakeEngine(), load_gold(_fake_gold(tmp_path)), ["hybrid"], k=10, answers=False)["notes"]


def test_run_and_qrels_files_parse_with_ranx(tmp_path: Path) -> None:
    ranx = pytest.importorskip("ranx")
    gold = load_gold(_fake_gold(tmp_path))
    result = E.evaluate(FakeEngine(), gold, ["hybrid"], k=10, answers=False)
    E.write_trec_run(tmp_path / "run.txt", result["retrievers"]["hybrid"]["_rankings"], tag="qa-hybrid")
    E.write_qrels(tmp_path / "qrels.txt", E.gold_qrels(gold))
    first = (tmp_path / "run.txt").read_text().splitlines()[0].split()
    assert first[:4] == ["1", "Q0", "1.e0", "1"] and first[5] == "qa-hybrid"
    qrels = ranx.Qrels.from_file(str(tmp_path / "qrels.txt"), kind="trec")
    run_ = ranx.Run.from_file(str(tmp_path / "run.txt"), kind="trec")
    ref = ranx.evaluate(qrels, run_, ["recall@1", "mrr@10", "ndcg@10"], make_comparable=True)
    ours = result["retrievers"]["hybrid"]["retrieval"]
    for name in ("recall@1", "mrr@10", "ndcg@10"):
        assert ref[name] == pytest.approx(ours[name]), name


# ------------------------------------------------------------------ the real pipeline


@pytest.mark.slow
def test_eval_cli_on_the_small_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    gold = _write(
        tmp_path / "gold.jsonl",
        [
            {"id": "herd", "question": "How many animals did the alpaca herd in Puno count?", "answers": ["340"], "evidence": "A herd in Puno counted 340 animals in 2021.", "doc": "alpaca.txt", "type": "factoid"},
            {"id": "summit", "question": "How tall is the Misti volcano?", "answers": ["5,822 metres"], "evidence": "Its summit stands 5,822 metres above sea level.", "doc": "volcano.md", "type": "paraphrase"},
            {"id": "train", "question": "How long is the train journey from Cusco to Puno?", "answers": ["about ten hours", "ten hours"], "evidence": "The journey takes about ten hours", "doc": "sub/rail.txt", "type": "factoid"},
            {"id": "off", "question": "Who painted the Mona Lisa?", "answers": [], "type": "offtopic"},
        ],
    )
    index_dir = tmp_path / "index"
    assert run(["index", str(corpus), "--index-dir", str(index_dir), "--quiet"]) == 0
    capsys.readouterr()
    argv = ["eval", str(gold), "-c", str(corpus), "--index-dir", str(index_dir), "-r", "all", "--json", "--no-answers"]
    argv += ["--run", str(tmp_path / "run.trec"), "--qrels", str(tmp_path / "qrels.trec")]
    assert run(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["retrievers"]) == {"hybrid", "dense", "bm25"}
    for name, r in result["retrievers"].items():
        assert r["answerable"] == 3 and r["unanswerable"] == 1
        # three documents on three different topics: each question's own document comes first
        assert r["retrieval"]["recall@1"] == 1.0, (name, r["failures"])
        assert r["retrieval"]["mrr@10"] == 1.0
        assert {q["id"]: q["evidence_rank"] for q in r["per_question"] if q["answerable"]} == {"herd": 1, "summit": 1, "train": 1}
        assert (tmp_path / f"run.{name}.trec").exists()
    assert (tmp_path / "qrels.trec").read_text().split("\n")[0] == "herd 0 herd.e0 1"
    # the tables for people: the same numbers, and document text printed as data
    assert run(["eval", str(gold), "-c", str(corpus), "--index-dir", str(index_dir), "--no-answers"]) == 0
    out = capsys.readouterr().out
    assert "Retrieval" in out and "recall@1" in out and "By type" in out and "paraphrase" in out


@pytest.mark.slow
def test_eval_conversations_on_the_small_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--conversations: the follow-ups asked three ways and the other questions asked as one
    conversation, in the tables and in --json."""
    corpus = write_corpus(tmp_path / "corpus")
    gold = _write(
        tmp_path / "gold.jsonl",
        [
            {"id": "herd", "question": "How many animals did the alpaca herd in Puno count?", "answers": ["340"], "evidence": "A herd in Puno counted 340 animals in 2021.", "doc": "alpaca.txt"},
            {"id": "summit", "question": "How tall is the Misti volcano?", "answers": ["5,822 metres"], "evidence": "Its summit stands 5,822 metres above sea level.", "doc": "volcano.md"},
            {"id": "off", "question": "Who painted the Mona Lisa?", "answers": []},
            {"id": "v1", "conversation": "v", "question": "How tall is the Misti volcano?", "answers": ["5,822 metres"], "evidence": "Its summit stands 5,822 metres above sea level.", "doc": "volcano.md"},
            {"id": "v2", "conversation": "v", "question": "When did it last erupt?", "full": "When did the Misti volcano last erupt?", "answers": ["1985"], "evidence": "The last eruption happened in 1985", "doc": "volcano.md"},
            {"id": "v3", "conversation": "v", "question": "Who climbed it first?", "full": "Who first climbed the Misti volcano?", "answers": []},
        ],
    )
    index_dir = tmp_path / "index"
    assert run(["index", str(corpus), "--index-dir", str(index_dir), "--quiet"]) == 0
    capsys.readouterr()
    base = ["eval", str(gold), "-c", str(corpus), "--index-dir", str(index_dir)]
    assert run([*base, "--json"]) == 0
    captured = capsys.readouterr()
    plain = json.loads(captured.out)["retrievers"]["hybrid"]
    assert plain["questions"] == 3 and "conversations" not in plain  # the turns stay out of the existing numbers
    assert "1 conversation (3 turns), not in these numbers: --conversations measures them" in captured.err
    assert run([*base, "--json", "--conversations"]) == 0
    result = json.loads(capsys.readouterr().out)["retrievers"]["hybrid"]
    assert {k: result[k] for k in ("questions", "retrieval", "answers")} == {k: plain[k] for k in ("questions", "retrieval", "answers")}
    fu = result["conversations"]["followups"]
    assert (fu["conversations"], fu["followups"], fu["answerable"]) == (1, 2, 1)
    for way in ("conversation", "alone", "full"):
        assert [q["id"] for q in fu["ways"][way]["per_question"]] == ["v2", "v3"]
    # one document per topic: the question written out finds its evidence first
    assert fu["ways"]["full"]["evidence@1"] == 1.0
    assert fu["ways"]["conversation"]["read_as"][0] is not None  # "it" was read with the volcano filled in
    su = result["conversations"]["standalone_unchanged"]
    assert su["questions"] == 3 and su["identical"] + len(su["changed"]) == 3
    assert su["share_identical"] == 1.0, su["changed"]  # three questions that stand alone
    assert run([*base, "--conversations"]) == 0
    out = capsys.readouterr().out
    assert "Follow-up questions: 2 follow-ups in 1 conversation" in out and "in conversation" in out
    assert "Standalone unchanged: the 3 other questions asked as one conversation vs one by one: 3/3" in out
