"""`qa batch`: every input and output format, input order and ids kept, --resume, bad rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from qa.commands.batch import done_ids, read_questions

Q1 = "How many roadblocks were reported on Friday?"
Q2 = "What is the best recipe for lasagna?"
Q3 = "Where was the highland protest extended to by January 19?"


def _run(argv: list[str], capsys) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    from qa.cli import run

    code = run(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _write_inputs(tmp: Path) -> dict[str, Path]:
    txt = tmp / "q.txt"
    txt.write_text(f"{Q1}\n\n{Q2}\n{Q3}\n", encoding="utf-8")
    jsonl = tmp / "q.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps(o) for o in [{"id": "a", "question": Q1}, {"id": "b", "question": Q2}, {"id": "c", "question": Q3}]) + "\n",
        encoding="utf-8",
    )
    csv_in = tmp / "q.csv"
    with csv_in.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "question"])
        for rid, q in [("a", Q1), ("b", Q2), ("c", Q3)]:
            w.writerow([rid, q])
    return {"txt": txt, "jsonl": jsonl, "csv": csv_in}


def _read_out(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_read_questions_formats(tmp_path: Path) -> None:
    files = _write_inputs(tmp_path)
    assert [(r.id, r.question) for r in read_questions(files["txt"])] == [("1", Q1), ("3", Q2), ("4", Q3)]
    assert [r.id for r in read_questions(files["jsonl"])] == ["a", "b", "c"]
    assert [r.question for r in read_questions(files["csv"])] == [Q1, Q2, Q3]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok?"}\nnot json\n{"id": 7, "question": 3}\n', encoding="utf-8")
    rows = read_questions(bad)
    assert rows[0].error is None and rows[0].id == "1"
    assert rows[1].error and "line 2" in rows[1].error
    assert rows[2].error and rows[2].id == "7"


def test_done_ids_drops_a_torn_last_line(tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    out.write_text('{"id": "a", "answer": "46"}\n{"id": "b", "ans', encoding="utf-8")
    assert done_ids(out) == {"a"}
    # only read: the torn line is cut by the Writer when the resumed batch writes (a refused one writes nothing)
    assert out.read_text(encoding="utf-8").endswith('"ans')
    from qa.commands.batch import Writer, resume_point

    Writer(out, append=True, keep=resume_point(out)[1]).close()
    assert out.read_text(encoding="utf-8") == '{"id": "a", "answer": "46"}\n'


@pytest.mark.slow
@pytest.mark.parametrize("fmt_in", ["txt", "jsonl", "csv"])
@pytest.mark.parametrize("fmt_out", ["jsonl", "csv"])
def test_round_trip(seeds_engine, tmp_path: Path, capsys, fmt_in: str, fmt_out: str) -> None:  # type: ignore[no-untyped-def]
    src = _write_inputs(tmp_path)[fmt_in]
    out = tmp_path / f"answers.{fmt_out}"
    code, _, err = _run(["batch", str(src), "--out", str(out)], capsys)
    assert code == 0, err
    assert "questions/s" in err
    rows = _read_out(out)
    assert [r["question"] for r in rows] == [Q1, Q2, Q3]
    expected_ids = ["1", "3", "4"] if fmt_in == "txt" else ["a", "b", "c"]
    assert [str(r["id"]) for r in rows] == expected_ids
    # batch answers are the answers `qa ask` gives, row for row
    single = [seeds_engine.ask(q) for q in (Q1, Q2, Q3)]
    for row, a in zip(rows, single):
        assert (row["answer"] or None) == a.text
    if fmt_out == "jsonl":
        assert rows[1]["abstained"] is True and rows[1]["answer"] is None
        assert rows[0]["sources"][0]["location"] == single[0].sources[0].location
    else:
        assert rows[1]["abstained"] == "true" and rows[1]["answer"] == ""


@pytest.mark.slow
@pytest.mark.parametrize("fmt_out", ["jsonl", "csv"])
def test_resume_skips_done_ids(seeds_engine, tmp_path: Path, capsys, fmt_out: str) -> None:  # type: ignore[no-untyped-def]
    src = _write_inputs(tmp_path)["jsonl"]
    partial = tmp_path / "partial.jsonl"
    partial.write_text("\n".join(src.read_text(encoding="utf-8").splitlines()[:1]) + "\n", encoding="utf-8")
    out = tmp_path / f"answers.{fmt_out}"
    assert _run(["batch", str(partial), "--out", str(out)], capsys)[0] == 0
    first = _read_out(out)
    code, _, err = _run(["batch", str(src), "--out", str(out), "--resume"], capsys)
    assert code == 0, err
    assert "1 skipped" in err
    rows = _read_out(out)
    assert [str(r["id"]) for r in rows] == ["a", "b", "c"]  # a kept once, b and c appended
    assert rows[0] == first[0]


@pytest.mark.slow
@pytest.mark.parametrize("fmt_out", ["jsonl", "csv"])
def test_bad_row_in_the_middle_gets_an_error_and_the_batch_goes_on(seeds_engine, tmp_path: Path, capsys, fmt_out: str) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "q.jsonl"
    src.write_text(
        "\n".join([json.dumps({"id": "a", "question": Q1}), json.dumps({"id": "b", "question": "  "}), "{broken", json.dumps({"id": "c", "question": Q3})]) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / f"answers.{fmt_out}"
    code, _, err = _run(["batch", str(src), "--out", str(out)], capsys)
    assert code == 0, err
    rows = _read_out(out)
    assert [str(r["id"]) for r in rows] == ["a", "b", "3", "c"]
    assert not rows[0]["error"] and (rows[0]["answer"] or None) == seeds_engine.ask(Q1).text
    assert "empty" in rows[1]["error"]
    assert "not valid JSON" in rows[2]["error"]
    assert (rows[3]["answer"] or None) == seeds_engine.ask(Q3).text and not rows[3]["error"]


@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("q.pdf", "x", ".txt, .jsonl or .csv"),
        ("q.csv", "id,text\n1,hello\n", "'question' column"),
    ],
)
def test_bad_inputs_exit_2(tmp_path: Path, capsys, name: str, content: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / name
    src.write_text(content, encoding="utf-8")
    code, out, err = _run(["batch", str(src), "--out", str(tmp_path / "a.jsonl")], capsys)
    assert code == 2 and fragment in err and err.count("\n") == 1


def test_bad_output_suffix_and_missing_input_exit_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "q.txt"
    src.write_text("Hello?\n", encoding="utf-8")
    code, _, err = _run(["batch", str(src), "--out", str(tmp_path / "a.xlsx")], capsys)
    assert code == 2 and ".jsonl or .csv" in err
    code, _, err = _run(["batch", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "a.jsonl")], capsys)
    assert code == 2 and "no such file" in err


def test_a_question_that_breaks_its_chunk_costs_only_its_own_row() -> None:
    """The chunk is asked again one question at a time: the one that breaks gets an error, the
    others their answers; a row that could not be read stays None."""
    from qa.commands.batch import Row, _answer_chunk

    class Breaking:
        def ask_many(self, questions, **_):  # type: ignore[no-untyped-def]
            if "bad" in questions:
                raise RuntimeError("boom")
            return [f"answer to {q}" for q in questions]

    rows = [Row("1", "ok"), Row("2", "", error="line 2: empty"), Row("3", "bad"), Row("4", "fine")]
    got = _answer_chunk(Breaking(), rows, 5, "hybrid", None, 1)
    assert got[0] == "answer to ok" and got[1] is None and got[3] == "answer to fine"
    assert got[2].question == "bad" and got[2].error == "RuntimeError: boom" and got[2].abstained
