"""`qa ask "…" --after "earlier question"` (issue 34, item 3): the earlier questions are asked
first as the conversation's turns; the answer shows the question as it was understood."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import NORLAND_STAFF, run_cli, write_corpus

DOCS = NORLAND_STAFF
WHO = "Who is the head of research at Norland Foods?"
WHEN = "When did she join the company?"


@pytest.fixture(scope="module")
def idx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from qa.config import IndexSettings
    from qa.index.folder import build_index

    root = tmp_path_factory.mktemp("after")
    build_index([write_corpus(root / "corpus", DOCS)], root / "idx", IndexSettings())
    return root / "idx"


def test_after_answers_the_followup_and_shows_how_it_was_understood(idx: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli(["ask", WHEN, "--after", WHO, "--index-dir", str(idx)], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Answer:") and "2015" in lines[0]
    assert lines[1] == "→ When did Priya Raman join the company?"
    assert lines[2].startswith("using: Priya Raman")
    assert "Priya Raman" not in out.split("Sources:")[0].split("→")[0]  # the earlier answer is not shown


def test_after_json_carries_the_standalone_question_and_context(idx: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(["ask", WHEN, "--after", "Who is the head of sales?", "--after", WHO, "--index-dir", str(idx), "--json"], capsys)
    assert code == 0
    obj = json.loads(out)
    assert obj["question"] == WHEN
    assert obj["standalone_question"] == "When did Priya Raman join the company?"  # the last turn, not the first
    assert "Priya Raman" in obj["context"] and "2015" in obj["answer"]


def test_a_question_that_stands_alone_is_unchanged_by_after(idx: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    q = "When did Jonas Berg join the company?"
    alone = json.loads(run_cli(["ask", q, "--index-dir", str(idx), "--json"], capsys)[1])
    after = json.loads(run_cli(["ask", q, "--after", WHO, "--index-dir", str(idx), "--json"], capsys)[1])
    assert after == alone and after["standalone_question"] == q and after["context"] == []
    code, out, _ = run_cli(["ask", q, "--after", WHO, "--index-dir", str(idx)], capsys)
    assert code == 0 and "→" not in out and "using:" not in out


@pytest.mark.parametrize("earlier", ["", "   ", "\x1b[31m"])
def test_an_empty_after_question_is_one_line(idx: Path, capsys, earlier: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli(["ask", WHEN, "--after", WHO, "--after", earlier, "--index-dir", str(idx)], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "--after" in err and "empty" in err and "Traceback" not in err


def test_understood_text_keeps_document_text_as_text() -> None:
    """Context words come from documents: markup and control characters are shown, never run."""
    from rich.console import Console

    from qa.present import understood_text
    from qa.records import Answer

    a = Answer(WHEN, None, None, 0.0, True, (), standalone_question="When did [bold red]Eve[/] join?", context=("[link=x]Eve[/link]", "bad\x1b]0;t\x07"))
    console = Console(record=True, width=200, color_system=None)
    console.print(understood_text(a))
    text = console.export_text()
    assert "→ When did [bold red]Eve[/] join?" in text
    assert "using: [link=x]Eve[/link], bad␛]0;t␇" in text and "\x1b" not in text
    assert understood_text(Answer(WHEN, None, None, 0.0, True, ())) is None


def test_help_explains_after(capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(["ask", "--help"], capsys)
    assert code == 0 and "--after" in out and "earlier question" in out.replace("\n", " ").lower()
