"""Odd questions: an answer, an abstention or one clear line on stderr — never a traceback.

Every case goes through the real CLI (`qa ask`, plain and --json, and `qa batch` into JSONL
and CSV) against a small real index; document markup and escapes must print as literal text.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import SMALL_DOCS, run_cli, write_corpus

from qa.commands.batch import read_questions

PLAIN = "How many animals did the herd in Puno count?"
MARKUP_DOC = (
    "Signs at Colca\n\n"
    "A sign at Colca read [bold]Welcome[/bold] and [link=https://x.org]go[/link] in 2019. "
    "Another sign was painted red \x1b[31mDANGER\x1b[0m by the park rangers.\n"
)

MARKUP_NAME = "[red]signs[/red].txt"  # a file name is data too
# id -> question that must be refused with a one-line "empty" error
EMPTY = {
    "empty": "",
    "whitespace": "  \t \n ",
    "nul-only": "\x00\x00",
    "invisible-only": "\u200b\u200f\ufeff",
}
# id -> question that must get an answer or an abstention
ODD = {
    "10k-chars": ("alpacas in Puno " * 700)[:10_000],
    "punctuation": "?!.,;:…—()[]{}«»",
    "spanish": "¿Cuántos animales contó el rebaño en Puno?",
    "chinese": "普诺的羊驼群有多少只动物？",
    "rich-markup": "[bold]How many animals[/bold] did the [link=https://evil.example]herd[/link] count?",
    "markup-close": "[/] [/bold] [",
    "ansi": f"\x1b[31m{PLAIN}\x1b[0m",
    "nul-inside": PLAIN.replace("did", "did\x00"),
    "newline": "How many animals\ndid the herd count?",
}
# ids whose answer must be the plain question's: escapes and NULs are not part of a question
SAME_AS_PLAIN = ("ansi", "nul-inside")


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from qa.config import IndexSettings
    from qa.index.folder import build_index

    root = tmp_path_factory.mktemp("question_faults")
    corpus = write_corpus(root / "corpus", {**SMALL_DOCS, MARKUP_NAME: MARKUP_DOC})
    build_index([corpus], root / "idx", IndexSettings())
    return root / "idx"


def _answer_json(index_dir: Path, question: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run_cli(["ask", question, "--index-dir", str(index_dir), "--json"], capsys)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.slow
@pytest.mark.parametrize("as_json", [False, True], ids=["plain", "json"])
@pytest.mark.parametrize("case", sorted(EMPTY))
def test_empty_question_is_one_line_exit_2(index_dir: Path, capsys: pytest.CaptureFixture[str], case: str, as_json: bool) -> None:
    code, out, err = run_cli(["ask", EMPTY[case], "--index-dir", str(index_dir), *(["--json"] if as_json else [])], capsys)
    assert code == 2 and out == ""
    assert err == "qa: error: the question is empty\n"


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(ODD))
def test_odd_question_gets_answer_or_abstention(index_dir: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    got = _answer_json(index_dir, ODD[case], capsys)
    assert got["error"] is None
    assert got["abstained"] is True or (isinstance(got["answer"], str) and got["answer"].strip())
    assert "\x00" not in got["question"] and "\x1b" not in got["question"]
    code, out, err = run_cli(["ask", ODD[case], "--index-dir", str(index_dir)], capsys)
    assert code == 0 and err == ""
    assert "\x1b" not in out and "\x00" not in out  # nothing reaches the terminal as an escape
    assert ("Not found in the sources." in out) == got["abstained"]
    code, out, err = run_cli(["search", ODD[case], "--index-dir", str(index_dir)], capsys)
    assert code == 0 and err == "" and "\x1b" not in out and "\x00" not in out
    code, out, err = run_cli(["search", ODD[case], "--index-dir", str(index_dir), "--json"], capsys)
    assert code == 0 and json.loads(out)["hits"]


@pytest.mark.slow
@pytest.mark.parametrize("case", SAME_AS_PLAIN)
def test_escapes_and_nul_do_not_change_the_answer(index_dir: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    plain = _answer_json(index_dir, PLAIN, capsys)
    assert plain["answer"] == "340"
    got = _answer_json(index_dir, ODD[case], capsys)
    assert got["answer"] == plain["answer"] and got["question"] == PLAIN


@pytest.mark.slow
def test_document_markup_prints_literally(index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    question = "What did the sign at Colca read?"
    code, out, err = run_cli(["ask", question, "--index-dir", str(index_dir), "--min-score", "0"], capsys)
    assert code == 0, err
    assert "[bold]Welcome[/bold]" in out and "[link=https://x.org]go[/link]" in out
    assert f"{MARKUP_NAME}:3" in out  # the file name too
    assert "\x1b" not in out
    code, out, err = run_cli(["search", question, "--index-dir", str(index_dir)], capsys)
    assert code == 0 and "[bold]Welcome[/bold]" in out and "\x1b" not in out
    got = _answer_json(index_dir, question, capsys)
    assert any("[bold]Welcome[/bold]" in s["excerpt"] for s in got["sources"])


def _write_questions(tmp: Path) -> tuple[list[tuple[str, str]], dict[str, Path]]:
    cases = [(k, v) for k, v in sorted(EMPTY.items())] + [(k, v) for k, v in sorted(ODD.items())]
    jsonl = tmp / "q.jsonl"
    jsonl.write_text("".join(json.dumps({"id": k, "question": q}) + "\n" for k, q in cases), encoding="utf-8")
    csv_in = tmp / "q.csv"
    with csv_in.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "question"])
        w.writerows(cases)
    return cases, {"jsonl": jsonl, "csv": csv_in}


def test_csv_question_may_span_lines(tmp_path: Path) -> None:
    _, files = _write_questions(tmp_path)
    got = {r.id: r.question for r in read_questions(files["csv"])}
    assert got["newline"] == ODD["newline"] and got["nul-inside"] == ODD["nul-inside"]
    assert got["rich-markup"] == ODD["rich-markup"]


@pytest.mark.slow
@pytest.mark.parametrize("fmt_in", ["jsonl", "csv"])
@pytest.mark.parametrize("fmt_out", ["jsonl", "csv"])
def test_batch_of_odd_questions(index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt_in: str, fmt_out: str) -> None:
    cases, files = _write_questions(tmp_path)
    out = tmp_path / f"answers.{fmt_out}"
    code, stdout, err = run_cli(["batch", str(files[fmt_in]), "--out", str(out), "--index-dir", str(index_dir)], capsys)
    assert code == 0, err
    assert "Traceback" not in err
    assert err.count("\n") == 1 and f"{len(cases)} rows written" in err and f"{len(EMPTY)} errors" in err
    if fmt_out == "jsonl":
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    else:
        with out.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == [k for k, _ in cases]
    for row in rows:
        if row["id"] in EMPTY:
            assert "empty" in row["error"]
        else:
            assert not row["error"]
            abstained = row["abstained"] in (True, "true")
            assert abstained or row["answer"], row
    by_id = {r["id"]: r for r in rows}
    for case in SAME_AS_PLAIN:
        assert by_id[case]["answer"] == "340"
    if fmt_out == "csv":
        assert by_id["newline"]["question"] == ODD["newline"]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc: a folder nobody (not even root) can write")
@pytest.mark.parametrize("out", ["/proc/qa-answers.jsonl", "/proc/qa-sub/answers.csv"])
def test_batch_output_that_cannot_be_written_is_one_line(index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], out: str) -> None:
    src = tmp_path / "q.txt"
    src.write_text(PLAIN + "\n", encoding="utf-8")
    code, stdout, err = run_cli(["batch", str(src), "--out", out, "--index-dir", str(index_dir)], capsys)
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"qa: error: cannot write {out}")
