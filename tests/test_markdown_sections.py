"""Markdown headings are sections, as a DOCX's or web page's are (issue 35).

A source in a `.md` file names the `#`/`##` (or `===`/`---` underlined) heading above it, so
`qa ask` shows where in a long note the answer stands; the heading line stays text and every
line keeps its number in the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli_io

from qa.documents.clean import markdown_headings
from qa.documents.ingest import load_corpus

NOTE = """# Field notes from Puno

## Markets

The Saturday market in Juliaca sells quinoa, potatoes and alpaca wool from the highlands.
Traders arrive before dawn from Ilave and Acora with their loads.

## Fishing on the lake

Fishermen on Lake Titicaca catch trout in floating cages near the Uros islands.
The cooperative in Chucuito sells its trout to restaurants in Arequipa every Thursday.
"""


def _doc(folder: Path):  # type: ignore[no-untyped-def]
    docs = load_corpus([folder]).documents
    assert len(docs) == 1
    return docs[0]


def test_atx_headings_are_sections_and_lines_stay(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "puno.md").write_text(NOTE, encoding="utf-8")
    doc = _doc(tmp_path / "c")
    assert doc.section_at(doc.text.index("Saturday market")) == "Markets"
    assert doc.section_at(doc.text.index("Chucuito")) == "Fishing on the lake"
    assert "## Fishing on the lake" in doc.text  # the heading line is still text
    at = doc.text.index("Chucuito")
    assert doc.lines_for(at, at + 8) == (11, 11)  # and lines keep their number in the file


def test_setext_headings_and_fenced_code(tmp_path: Path) -> None:
    lines = [
        "Markets",
        "=======",
        "",
        "Quinoa and wool are sold here.",
        "",
        "```bash",
        "# not a heading: a comment in code",
        "```",
        "",
        "Fishing on the lake",
        "-------------------",
        "",
        "Trout is caught in cages.",
        "",
        "A paragraph line",
        "---",
    ]
    # the simple rule: a one-line paragraph underlined is a heading (the underline of a longer
    # paragraph, or a rule after a blank line, is not taken)
    assert markdown_headings(lines) == [(1, "Markets"), (10, "Fishing on the lake"), (15, "A paragraph line")]
    assert markdown_headings(["## Closed heading ##", "", "#not-a-heading", "text", "---"]) == [(1, "Closed heading")]


def test_plain_text_files_get_no_markdown_sections(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "puno.txt").write_text(NOTE, encoding="utf-8")
    assert _doc(tmp_path / "c").headings == ()


@pytest.mark.slow
def test_ask_json_shows_the_markdown_section(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "puno.md").write_text(NOTE, encoding="utf-8")
    index = tmp_path / "index"
    code, _, err = run_cli_io(["index", str(folder), "--index-dir", str(index), "--quiet"])
    assert code == 0, err
    code, out, err = run_cli_io(["ask", "Where does the Chucuito cooperative sell its trout?", "--index-dir", str(index), "--json", "--min-score", "0"])
    assert code == 0, err
    obj = json.loads(out)
    top = obj["sources"][0]
    assert top["file"] == "puno.md" and "Chucuito" in top["excerpt"]
    assert top["section"] == "Fishing on the lake"
