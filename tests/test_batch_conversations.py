"""`qa batch` with conversations (issue 34, item 3): rows sharing a "conversation" are answered in
file order, each follow-up with the earlier rows of its conversation; rows without one are
answered exactly as before; --resume rebuilds the earlier turns from the rows already written;
bad conversation ids, empty follow-ups and follow-ups that follow nothing are one row each."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import NORLAND_STAFF, run_cli, write_corpus

from qa.commands.batch import CONVERSATION_CSV_FIELDS, CSV_FIELDS, Row, answer_rows, leading_followups, read_questions

DOCS = {
    **NORLAND_STAFF,
    "misti.md": (
        "# The Misti volcano\n\n"
        "Misti is a stratovolcano near the city of Arequipa. Its summit stands 5,822 metres "
        "above sea level. The last eruption happened in 1985, according to the observatory.\n"
    ),
}

WHO_RESEARCH = "Who is the head of research at Norland Foods?"
WHO_SALES = "Who is the head of sales at Norland Foods?"
WHEN = "When did she join the company?"
WHEN_HE = "When did he join the company?"
MISTI = "How high is the summit of Misti?"


@pytest.fixture(scope="module")
def idx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from qa.config import IndexSettings
    from qa.index.folder import build_index

    root = tmp_path_factory.mktemp("conv")
    corpus = write_corpus(root / "corpus", DOCS)
    build_index([corpus], root / "idx", IndexSettings())
    return root / "idx"


@pytest.fixture(scope="module")
def engine(idx: Path):  # type: ignore[no-untyped-def]
    from qa.engine import Engine

    return Engine.open(index_dir=idx)


def _jsonl(path: Path, objs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


def _read(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _batch(idx: Path, src: Path, out: Path, capsys, *extra: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    code, _, err = run_cli(["batch", str(src), "--out", str(out), "--index-dir", str(idx), *extra], capsys)
    return code, err


# --------------------------------------------------------------------------- reading


def test_conversation_ids_are_read_and_bad_ones_are_row_errors(tmp_path: Path) -> None:
    src = tmp_path / "q.jsonl"
    src.write_text(
        "\n".join(
            [
                '{"id": "a", "question": "q1", "conversation": "c1"}',
                '{"id": "b", "question": "q2", "conversation": 7}',
                '{"id": "c", "question": "q3", "conversation": null}',
                '{"id": "d", "question": "q4", "conversation": "  "}',
                '{"id": "e", "question": "q5", "conversation": {"x": 1}}',
                '{"id": "f", "question": "q6", "conversation": [1]}',
                '{"id": "g", "question": "q7", "conversation": true}',
                '{"id": "h", "question": "q8"}',
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    rows = read_questions(src)
    assert [r.conversation for r in rows] == ["c1", "7", None, None, None, None, None, None]
    assert [r.error for r in rows[:4]] == [None] * 4 and rows[7].error is None
    for r, kind in zip(rows[4:7], ("an object", "a list", "true/false")):
        assert r.error == f"line {r.line}: 'conversation' must be a string or a number, not {kind}"
        assert r.question  # kept, written in the row
    csv_src = tmp_path / "q.csv"
    csv_src.write_text("id,conversation,question\n1,c1,q1\n2,,q2\n3, c2 ,q3\n", encoding="utf-8")
    assert [r.conversation for r in read_questions(csv_src)] == ["c1", None, "c2"]


def test_a_followup_that_opens_its_conversation_gets_a_note() -> None:
    rows = [
        Row("1", WHEN, line=1, conversation="c1"),  # follows nothing
        Row("2", WHEN, line=2, conversation="c1"),  # follows row 1
        Row("3", "   ", line=3, conversation="c2"),  # empty: an error of its own, not a turn
        Row("4", "And why?", line=4, conversation="c2"),  # still follows nothing
        Row("5", WHEN, line=5),  # no conversation: stands alone, no note
        Row("6", WHO_RESEARCH, line=6, conversation="c3"),
    ]
    notes = leading_followups(rows)
    assert set(notes) == {"1", "4"}
    assert notes["1"].startswith("line 1: follows nothing") and "'c1'" in notes["1"] and "\n" not in notes["1"]


# --------------------------------------------------------------------------- answering


def test_nth_turns_of_different_conversations_are_read_together(engine) -> None:  # type: ignore[no-untyped-def]
    """Three conversations of two turns, each written one after another: two reads of three."""

    class Counting:
        def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
            self.inner, self.batches = inner, []

        def search_many(self, questions, **kw):  # type: ignore[no-untyped-def]
            self.batches.append(list(questions))
            return self.inner.search_many(questions, **kw)

        @property
        def locator(self):  # type: ignore[no-untyped-def]
            return self.inner.locator

    rows = [
        Row("1", WHO_RESEARCH, line=1, conversation="a"),
        Row("2", WHEN, line=2, conversation="a"),
        Row("3", WHO_SALES, line=3, conversation="b"),
        Row("4", WHEN_HE, line=4, conversation="b"),
        Row("5", MISTI, line=5, conversation="c"),
        Row("6", "When did it last erupt?", line=6, conversation="c"),
    ]
    counting = Counting(engine)
    got = list(answer_rows(counting, rows, set(), {}, {"k": 5, "retriever": "hybrid", "min_score": None, "answers": 1}))
    assert [r.id for r, _ in got] == ["1", "2", "3", "4", "5", "6"]  # written in input order
    assert [len(b) for b in counting.batches] == [3, 3]
    by_id = {r.id: a for r, a in got}
    assert by_id["2"].standalone_question == "When did Priya Raman join the company?" and "2015" in by_id["2"].text
    assert by_id["4"].standalone_question == "When did Jonas Berg join the company?" and "2019" in by_id["4"].text
    assert "1985" in (by_id["6"].text or "")


@pytest.mark.slow
@pytest.mark.parametrize("fmt_out", ["jsonl", "csv"])
def test_conversations_in_a_batch_and_independent_rows_unchanged(idx: Path, tmp_path: Path, capsys, fmt_out: str) -> None:  # type: ignore[no-untyped-def]
    alone = [{"id": "m", "question": MISTI}, {"id": "w", "question": WHEN}]
    talk = [
        {"id": "1", "conversation": "r", "question": WHO_RESEARCH},
        {"id": "2", "conversation": "s", "question": WHO_SALES},
        alone[0],
        {"id": "3", "conversation": "r", "question": WHEN},
        {"id": "4", "conversation": "s", "question": WHEN_HE},
        alone[1],
    ]
    out = tmp_path / f"a.{fmt_out}"
    code, err = _batch(idx, _jsonl(tmp_path / "q.jsonl", talk), out, capsys)
    assert code == 0, err
    rows = _read(out)
    assert [str(r["id"]) for r in rows] == ["1", "2", "m", "3", "4", "w"]
    by_id = {str(r["id"]): r for r in rows}
    assert by_id["3"]["standalone_question"] == "When did Priya Raman join the company?" and "2015" in by_id["3"]["answer"]
    assert by_id["4"]["standalone_question"] == "When did Jonas Berg join the company?" and "2019" in by_id["4"]["answer"]
    assert by_id["1"]["standalone_question"] == WHO_RESEARCH  # stood alone: the question itself
    assert by_id["3"]["conversation"] == "r"
    # the rows without a conversation are exactly the rows of a file without conversations
    plain = tmp_path / f"plain.{fmt_out}"
    assert _batch(idx, _jsonl(tmp_path / "p.jsonl", alone), plain, capsys)[0] == 0
    before = {str(r["id"]): r for r in _read(plain)}
    for rid in ("m", "w"):
        if fmt_out == "jsonl":
            assert by_id[rid] == before[rid]
        else:
            assert {k: by_id[rid][k] for k in CSV_FIELDS} == before[rid]
    if fmt_out == "csv":
        assert list(rows[0]) == list(CONVERSATION_CSV_FIELDS)
        assert list(_read(plain)[0]) == list(CSV_FIELDS)  # a file without conversations: today's columns
        assert by_id["3"]["passage_id"].startswith("staff.txt#1:")
        assert "Priya Raman" in by_id["3"]["context"]
    else:
        assert "conversation" not in before["m"] and "note" not in before["m"]
        assert "Priya Raman" in by_id["3"]["context"]


@pytest.mark.slow
@pytest.mark.parametrize("fmt_out", ["jsonl", "csv"])
def test_resume_mid_conversation_rebuilds_the_earlier_turns(idx: Path, tmp_path: Path, capsys, fmt_out: str) -> None:  # type: ignore[no-untyped-def]
    """A run stopped after the first turns: the resumed follow-ups read them from the rows written."""
    talk = [
        {"id": "1", "conversation": "r", "question": WHO_RESEARCH},
        {"id": "2", "conversation": "s", "question": WHO_SALES},
        {"id": "3", "conversation": "r", "question": WHEN},
        {"id": "4", "conversation": "s", "question": WHEN_HE},
        {"id": "5", "conversation": "r", "question": "Where did she work before?"},
    ]
    src = _jsonl(tmp_path / "q.jsonl", talk)
    whole = tmp_path / f"whole.{fmt_out}"
    assert _batch(idx, src, whole, capsys)[0] == 0
    out = tmp_path / f"a.{fmt_out}"
    data = whole.read_bytes()
    cut = data.index(b"\n3,") + 1 if fmt_out == "csv" else data.index(b'{"id": "3"')
    out.write_bytes(data[:cut])  # rows 1 and 2 written, then the run stopped
    code, err = _batch(idx, src, out, capsys, "--resume")
    assert code == 0 and "3 rows written" in err and "2 skipped as already done" in err, err
    rows, expected = _read(out), _read(whole)
    assert [str(r["id"]) for r in rows] == ["1", "2", "3", "4", "5"]
    assert rows == expected  # the same rows as the run that was not stopped
    assert rows[2]["standalone_question"] == "When did Priya Raman join the company?" and "2015" in rows[2]["answer"]
    assert rows[3]["standalone_question"] == "When did Jonas Berg join the company?"


@pytest.mark.slow
def test_bad_conversation_rows_are_one_row_each_and_the_others_are_answered(idx: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    talk = [
        {"id": "0", "conversation": "r", "question": WHEN},  # follows nothing
        {"id": "1", "conversation": "r", "question": WHO_RESEARCH},
        {"id": "2", "conversation": "r", "question": "   "},  # an empty follow-up
        {"id": "3", "conversation": "r", "question": WHEN},  # goes on from row 1
        {"id": "4", "conversation": {"x": 1}, "question": WHO_SALES},
        {"id": "5", "conversation": [1, 2], "question": WHO_SALES},
        {"id": "6", "conversation": False, "question": WHO_SALES},
        {"id": "7", "conversation": 12, "question": WHO_SALES},
        {"id": "8", "conversation": 12.0, "question": WHEN_HE},  # 12.0 is not 12: follows nothing
        {"id": "9", "conversation": "12", "question": WHEN_HE},  # "12" is 12
    ]
    out = tmp_path / "a.jsonl"
    code, err = _batch(idx, _jsonl(tmp_path / "q.jsonl", talk), out, capsys)
    assert code == 0, err
    rows = {r["id"]: r for r in _read(out)}
    assert list(rows) == [str(i) for i in range(10)]  # nothing lost
    assert rows["0"]["note"].startswith("line 1: follows nothing") and rows["0"]["standalone_question"] == WHEN
    assert rows["0"]["answer"] is not None or rows["0"]["abstained"] is True  # answered as it stands
    assert "warning:" in err and "line 1: follows nothing" in err and "(and 1 more)" in err
    assert rows["2"]["error"] == "the question is empty" and rows["2"]["answer"] is None
    assert rows["3"]["standalone_question"] == "When did Priya Raman join the company?" and "2015" in rows["3"]["answer"]
    assert rows["3"]["note"] is None
    for rid, kind in (("4", "an object"), ("5", "a list"), ("6", "true/false")):
        assert rows[rid]["error"] == f"line {int(rid) + 1}: 'conversation' must be a string or a number, not {kind}"
        assert rows[rid]["question"] == WHO_SALES and rows[rid]["answer"] is None
    assert rows["7"]["conversation"] == "12" and rows["7"]["answer"] == "Jonas Berg"
    assert rows["8"]["conversation"] == "12.0" and rows["8"]["note"] and rows["8"]["standalone_question"] == WHEN_HE
    assert rows["9"]["standalone_question"] == "When did Jonas Berg join the company?"
    assert "\n" not in rows["0"]["note"] and err.count("follows nothing") == 1


@pytest.mark.slow
def test_resume_of_a_csv_without_conversation_columns_is_refused_and_writes_nothing(idx: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "a.csv"
    assert _batch(idx, _jsonl(tmp_path / "p.jsonl", [{"id": "1", "question": MISTI}]), out, capsys)[0] == 0
    before = out.read_bytes()
    talk = [{"id": "1", "question": MISTI}, {"id": "2", "conversation": "m", "question": "When did it last erupt?"}]
    code, err = _batch(idx, _jsonl(tmp_path / "q.jsonl", talk), out, capsys, "--resume")
    assert code == 2 and "no 'conversation' columns" in err and err.count("\n") == 1, err
    assert out.read_bytes() == before


def test_help_says_what_a_conversation_may_be(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(["batch", "--help"], capsys)
    text = " ".join(out.split())
    assert code == 0 and "'conversation'" in text and "a number" in text and "standalone_question" in text
