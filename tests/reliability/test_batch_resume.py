"""`qa batch --resume` after a cut inside a record, and row ids (issue 37, items 2 and 7).

A crash can cut the answers file anywhere, also inside a quoted CSV cell that holds a line
break: the file then ends with a newline that is not the end of a record. The resume point
is the end of the last complete record (CSV parsed with its quotes, JSONL as JSON), so the
cut row is answered again and no earlier complete row is lost.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from conftest import run_cli, write_corpus

from qa.commands.batch import Row, Writer, read_questions, resume_point, unique_ids
from qa.config import IndexSettings
from qa.index.folder import build_index

MULTILINE = "How many animals\ndid the herd in Puno\ncount?"
ROWS = [Row("1", "Where is Misti?"), Row("2", MULTILINE), Row("3", "How often is alpaca fleece sheared?")]


def written(tmp_path: Path, suffix: str) -> Path:
    """An answers file as qa batch writes it (error rows: no model needed)."""
    out = tmp_path / f"answers{suffix}"
    w = Writer(out, append=False)
    for r in ROWS:
        w.write(replace_error(r), None)
    w.close()
    return out


def replace_error(r: Row) -> Row:
    return Row(r.id, r.question, "not asked", r.line)


def csv_cuts(data: bytes) -> dict[str, int]:
    """Byte offsets to cut a CSV answers file at, each inside or at the end of row 2."""
    start2 = data.index(b"\r\n2,") + 2
    first_break = data.index(b"\n", data.index(b"How many animals"))
    end2 = data.index(b"\r\n3,") + 2
    return {
        "in-cell-before-break": first_break - 3,
        "in-cell-just-after-break": first_break + 1,  # the file ends with a newline, inside the quotes
        "in-cell-after-second-break": data.index(b"\n", first_break + 1) + 1,
        "after-cell-mid-row": data.index(b'count?"', start2) + len(b'count?",'),
        "after-row-2": end2,  # nothing torn: row 2 is done
    }


@pytest.mark.parametrize("cut", ["in-cell-before-break", "in-cell-just-after-break", "in-cell-after-second-break", "after-cell-mid-row", "after-row-2"])
def test_csv_cut_inside_a_multiline_cell_resumes_at_the_last_whole_record(tmp_path: Path, cut: str) -> None:
    out = written(tmp_path, ".csv")
    data = out.read_bytes()
    at = csv_cuts(data)[cut]
    out.write_bytes(data[:at])
    ids, keep = resume_point(out)
    whole = cut == "after-row-2"
    assert ids == ({"1", "2"} if whole else {"1"})
    assert out.read_bytes() == data[:at]  # only looked at: nothing cut before the batch really writes
    assert data[:keep] == data[: data.index(b"\r\n3,") + 2 if whole else data.index(b"\r\n2,") + 2]
    # appending rows 2 and 3 from the resume point gives a file whose records are exactly the three rows
    w = Writer(out, append=True, keep=keep)
    for r in ROWS:
        if r.id not in ids:
            w.write(replace_error(r), None)
    w.close()
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert [(r["id"], r["question"]) for r in rows] == [(r.id, r.question) for r in ROWS]


@pytest.mark.parametrize("cut", ["mid-line", "torn-line-then-newline", "after-line-2"])
def test_jsonl_cut_resumes_at_the_last_whole_record(tmp_path: Path, cut: str) -> None:
    out = written(tmp_path, ".jsonl")
    data = out.read_bytes()
    lines = data.splitlines(keepends=True)
    head = lines[0] + lines[1]
    tail = {"mid-line": lines[1][:20], "torn-line-then-newline": lines[1][:20] + b"\n", "after-line-2": lines[1]}[cut]
    out.write_bytes(lines[0] + tail)
    ids, keep = resume_point(out)
    assert ids == ({"1", "2"} if cut == "after-line-2" else {"1"})
    assert keep == (len(head) if cut == "after-line-2" else len(lines[0]))
    w = Writer(out, append=True, keep=keep)
    for r in ROWS:
        if r.id not in ids:
            w.write(replace_error(r), None)
    w.close()
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["1", "2", "3"]


@pytest.mark.slow
def test_resume_of_a_csv_cut_in_a_multiline_question_answers_the_cut_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The report: the cut row was counted done (never answered) and row 3 landed inside its question cell."""
    corpus = write_corpus(tmp_path / "corpus")
    build_index([corpus], tmp_path / "idx", IndexSettings())
    questions = tmp_path / "q.csv"
    with questions.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "question"])
        w.writerows([(r.id, r.question) for r in ROWS])
    out = tmp_path / "a.csv"
    argv = ["batch", str(questions), "--out", str(out), "--index-dir", str(tmp_path / "idx")]
    assert run_cli(argv, capsys)[0] == 0
    full = out.read_bytes()
    out.write_bytes(full[: full.index(b"\n", full.index(b"How many animals")) + 1])
    code, _, err = run_cli([*argv, "--resume"], capsys)
    assert code == 0 and "2 rows written" in err and "1 skipped as already done" in err, err
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert [(r["id"], r["question"]) for r in rows] == [(r.id, r.question) for r in ROWS]
    assert "340" in rows[1]["answer"]


# --------------------------------------------------------------------------- ids


@pytest.mark.parametrize("line", ['{"id": null, "question": "q"}', '{"question": "q"}', '{"id": "", "question": "q"}', '{"id": "  ", "question": "q"}'])
def test_a_missing_or_null_id_is_the_line_number(tmp_path: Path, line: str) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "a", "question": "first"}\n\n' + line + "\n" + line + "\n")
    rows, notes = unique_ids(read_questions(questions))
    assert [r.id for r in rows] == ["a", "3", "4"] and notes == []
    assert all(r.error is None for r in rows)


@pytest.mark.parametrize("value", ['{"x": 1}', "[1, 2]", "true"])
def test_an_id_that_is_not_a_string_or_number_is_a_row_error(tmp_path: Path, value: str) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": 7, "question": "first"}\n{"id": ' + value + ', "question": "second"}\n')
    rows = read_questions(questions)
    assert [r.id for r in rows] == ["7", "2"]
    assert rows[0].error is None
    assert rows[1].error is not None and rows[1].error.startswith("line 2: 'id' must be a string or a number"), rows[1].error
    assert "{'x'" not in (rows[1].error or "") and rows[1].question == "second"


def test_renaming_many_equal_ids_is_linear_and_right() -> None:
    """50,000 rows sharing one id (30,000 waited 97 s: each rename tried every suffix from ~2 up)."""
    import time

    n = 50_000
    rows = [Row("x", "q", line=i) for i in range(1, n + 1)] + [Row("x~3", "explicit", line=n + 1)]
    started = time.perf_counter()
    out, notes = unique_ids(rows)
    seconds = time.perf_counter() - started
    ids = [r.id for r in out]
    assert len(set(ids)) == len(ids) == n + 1
    assert ids[:4] == ["x", "x~2", "x~4", "x~5"] and ids[-1] == "x~3" and ids[-2] == f"x~{n + 1}"
    assert len(notes) == n - 1
    assert unique_ids(rows)[0] == out  # the same on every run (--resume relies on it)
    assert seconds < 20, seconds  # quadratic: ~1.25e9 set look-ups, minutes; linear: well under a second
