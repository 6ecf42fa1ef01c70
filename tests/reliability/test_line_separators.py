"""U+2028, U+2029 and U+0085 inside a JSONL record: JSON allows them raw in a string, and qa
writes them raw (`ensure_ascii=False`), so every JSONL reader must split lines at `\\n` only.

`str.splitlines()` also breaks at these three characters: a PDF or DOCX whose title or author
held one made passages.jsonl "corrupt" on every query (and `qa index` rebuilt the same file);
a valid `qa batch` question line holding one was rejected as "not valid JSON" and every later
error named the wrong line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli_io
from format_docs import make_docx, make_pdf

from qa.commands.batch import done_ids, read_questions
from qa.eval.gold import load_gold

SEPARATORS = {"LS": "\u2028", "PS": "\u2029", "NEL": "\u0085"}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SEPARATORS))
def test_title_and_author_with_a_line_separator_index_and_answer(tmp_path: Path, name: str) -> None:
    ch = SEPARATORS[name]
    corpus = tmp_path / "c"
    make_pdf(corpus / "report.pdf", title=f"Annual{ch}Report 2025", author=f"Board{ch}secretariat")
    make_docx(corpus / "field.docx", title=f"Field report{ch}from Cusco", author=f"Luis{ch}Mamani")
    index = tmp_path / "idx"
    code, out, err = run_cli_io(["index", str(corpus), "--index-dir", str(index), "--quiet"])
    assert code == 0, err
    raw = (index / "passages.jsonl").read_text(encoding="utf-8")
    assert ch in raw  # written raw: the case under test is really there
    for argv in (["search", "pumps Chiguata station"], ["ask", "Where were the new pumps bought?", "--json"]):
        code, out, err = run_cli_io([*argv, "--index-dir", str(index)])
        assert code == 0, err
        assert "corrupt" not in err
    assert "Lima" in json.loads(out)["answer"]
    titles = {s["title"] for s in json.loads(out)["sources"]}
    assert any(ch in t for t in titles if t), titles
    code, out, err = run_cli_io(["index", str(corpus), "--index-dir", str(index)])
    assert code == 0, err
    assert "up to date" in out + err  # the index is read back as built, not rebuilt


@pytest.mark.parametrize("name", list(SEPARATORS))
def test_batch_input_line_with_a_raw_separator_is_read_and_line_numbers_stay_right(tmp_path: Path, name: str) -> None:
    ch = SEPARATORS[name]
    questions = tmp_path / "q.jsonl"
    lines = [
        json.dumps({"id": "a", "question": f"How tall is{ch}Misti?"}, ensure_ascii=False),
        json.dumps({"id": "b", "question": "Where is Puno?"}),
        "{not json",
    ]
    questions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = read_questions(questions)
    assert [r.id for r in rows] == ["a", "b", "3"]
    assert rows[0].error is None and rows[0].question == f"How tall is{ch}Misti?"
    assert rows[1].error is None and rows[1].line == 2
    assert rows[2].error is not None and rows[2].error.startswith("line 3:")


@pytest.mark.parametrize("name", list(SEPARATORS))
def test_resume_reads_answers_holding_a_raw_separator(tmp_path: Path, name: str) -> None:
    ch = SEPARATORS[name]
    out = tmp_path / "answers.jsonl"
    rows = [{"id": "a", "question": "q", "answer": f"x{ch}y"}, {"id": "b", "question": "q", "answer": "z"}]
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert done_ids(out) == {"a", "b"}


@pytest.mark.parametrize("name", list(SEPARATORS))
def test_gold_file_with_a_raw_separator_is_read(tmp_path: Path, name: str) -> None:
    ch = SEPARATORS[name]
    gold = tmp_path / "gold.jsonl"
    items = [
        {"id": "g1", "question": f"How tall is{ch}Misti?", "answers": ["5,822 metres"]},
        {"id": "g2", "question": "Where is Puno?", "answers": ["Peru"]},
    ]
    gold.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    loaded = load_gold(gold)
    assert [i.id for i in loaded.items] == ["g1", "g2"]
