"""A question whose answer stands in a table row is answered with the cell's own words, and the
attribution names the row's line (the reader reads the row as sentences built from the header)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.answers.tables import render, to_passage
from qa.documents.clean import normalize_line
from qa.documents.formats import extract, to_documents

BENEFITS = [
    ("Benefit", "Provider"),
    ("Private health care", "Medicover"),
    ("Life insurance", "Generali"),
    ("Sports card", "Multisport"),
    ("Meal vouchers", "Edenred"),
]


def make_benefits_docx(path: Path, rows: list[tuple[str, str]] = BENEFITS) -> Path:
    """A Word file with a heading, a paragraph and a two-column table whose first row names the columns."""
    import docx

    document = docx.Document()
    document.add_heading("Employee benefits", level=1)
    document.add_paragraph("Every employee receives the following benefits after the probation period of three months.")
    table = document.add_table(rows=len(rows), cols=2)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("Questions about the benefits go to the human resources office on the second floor.")
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def test_a_table_row_is_read_as_sentences_and_maps_back_to_its_cells(tmp_path: Path) -> None:
    path = make_benefits_docx(tmp_path / "benefits.docx")
    ex, why = extract(path.read_bytes(), path.name)
    assert ex is not None, why
    (doc,) = to_documents(ex, path.name)
    assert "Private health care | Medicover" in doc.text  # the row's line is what is indexed
    rendered = render(doc.text, doc.cells)
    assert "The Provider of Private health care is Medicover." in rendered.text
    assert "Benefit | Provider" not in rendered.text  # the header's names stand in every row
    at = rendered.text.index("Medicover")
    a, b = to_passage(rendered, at, at + len("Medicover."))  # type: ignore[misc]
    assert doc.text[a:b] == "Medicover"  # the inserted full stop is let go
    at = rendered.text.index("Provider of Private")
    assert to_passage(rendered, at, at + len("Provider of Private health care")) is None  # inserted words: never an answer
    # the cells go with the passages into the index and come back from it equal
    from qa.config import default_settings
    from qa.documents.chunk import chunk_document
    from qa.records import Passage

    passages = chunk_document(doc, default_settings().chunk)
    assert any(p.cells for p in passages)
    for p in passages:
        assert Passage.from_json(json.loads(json.dumps(p.to_json()))) == p
        assert all(p.text[a:b] in {c for row in BENEFITS for c in row} for a, b, _ in p.cells)
    # text that is not a table is read as it is
    plain = "No table here. Only prose."
    assert render(plain, ()).text == plain and render(plain, ()).is_identity


def test_a_table_without_a_header_row_is_left_as_it_is(tmp_path: Path) -> None:
    path = make_benefits_docx(tmp_path / "figures.docx", [("2022", "8 soles"), ("2023", "6 soles")])
    ex, _ = extract(path.read_bytes(), path.name)
    assert ex is not None
    (doc,) = to_documents(ex, path.name)
    assert doc.cells == ()


@pytest.mark.slow
def test_a_question_answered_by_a_word_table_row(tmp_path: Path) -> None:
    from qa.engine import Engine

    folder = tmp_path / "c"
    path = make_benefits_docx(folder / "benefits.docx")
    ex, _ = extract(path.read_bytes(), path.name)
    assert ex is not None
    row_line = [normalize_line(x) for x in ex.lines].index("Private health care | Medicover") + 1
    answer = Engine.open([folder], tmp_path / "idx", build_missing=True).ask("Who provides private health care to employees?")
    assert not answer.abstained, answer
    assert answer.text == "Medicover"
    top = answer.sources[0]
    assert top.passage.text[top.span_start : top.span_end] == "Medicover"  # verbatim, the cell's own words
    assert top.sentence == "Private health care | Medicover"  # the row as the file has it
    assert top.location == f"benefits.docx:{row_line}-{row_line}"


BENEFITS_MD = """# Employee benefits

Every employee receives the following benefits after the probation period of three months.

| Benefit | Provider |
|---|:---:|
| Private health care | Medicover |
|Life insurance|Generali|
| Sports card |  |

Questions about the benefits go to the human resources office on the second floor.
"""


def test_a_markdown_pipe_table_is_read_with_its_header() -> None:
    from qa.documents.clean import clean_text

    (doc,) = clean_text(BENEFITS_MD, "benefits.md")
    text = render(doc.text, doc.cells).text
    assert "The Provider of Private health care is Medicover." in text
    assert "The Provider of Life insurance is Generali." in text
    assert "---" not in text and "| Benefit | Provider |" not in text  # header and delimiter rows: names only
    assert "Sports card" in text  # a row with an empty cell is still read
    assert clean_text(BENEFITS_MD, "benefits.txt")[0].cells == ()  # only Markdown files have pipe tables


@pytest.mark.slow
def test_a_question_answered_by_a_markdown_table_row(tmp_path: Path) -> None:
    from qa.engine import Engine

    from conftest import write_corpus

    folder = write_corpus(tmp_path / "c", {"benefits.md": BENEFITS_MD})
    row_line = BENEFITS_MD.splitlines().index("| Private health care | Medicover |") + 1
    answer = Engine.open([folder], tmp_path / "idx", build_missing=True).ask("Who provides private health care to employees?")
    assert not answer.abstained, answer
    assert answer.text == "Medicover"
    top = answer.sources[0]
    assert top.passage.text[top.span_start : top.span_end] == "Medicover"
    assert top.location == f"benefits.md:{row_line}-{row_line}"


BENEFITS_HTML = """<!doctype html>
<html><head><title>Employee benefits</title></head>
<body><article>
<h1>Employee benefits</h1>
<p>Every employee receives the following benefits after the probation period of three months.</p>
<table>
<tr><th>Benefit</th><th>Provider</th></tr>
<tr><td>Private health care</td><td>Medicover</td></tr>
<tr>
  <td>Life insurance</td>
  <td>Generali</td>
</tr>
<tr><td>Sports card</td><td>Multisport</td></tr>
</table>
<p>Questions about the benefits go to the human resources office on the second floor.</p>
</article></body></html>
"""


def test_an_html_table_is_read_with_its_header() -> None:
    ex, why = extract(BENEFITS_HTML.encode(), "benefits.html")
    assert ex is not None, why
    (doc,) = to_documents(ex, "benefits.html")
    text = render(doc.text, doc.cells).text
    assert "The Provider of Private health care is Medicover." in text
    assert "The Provider of Life insurance is Generali." in text  # a row spread over several file lines
    assert "Benefit | Provider" not in text
    # a table whose first row is figures has no header
    figures = BENEFITS_HTML.replace("<th>Benefit</th><th>Provider</th>", "<td>2022</td><td>8 soles</td>")
    ex, _ = extract(figures.encode(), "figures.html")
    assert ex is not None
    assert to_documents(ex, "figures.html")[0].cells == ()


@pytest.mark.slow
def test_a_question_answered_by_an_html_table_row(tmp_path: Path) -> None:
    from qa.engine import Engine

    from conftest import write_corpus

    folder = write_corpus(tmp_path / "c", {"benefits.html": BENEFITS_HTML})
    row_line = BENEFITS_HTML.splitlines().index("<tr><td>Private health care</td><td>Medicover</td></tr>") + 1
    answer = Engine.open([folder], tmp_path / "idx", build_missing=True).ask("Who provides private health care to employees?")
    assert not answer.abstained, answer
    assert answer.text == "Medicover"
    top = answer.sources[0]
    assert top.passage.text[top.span_start : top.span_end] == "Medicover"
    assert top.location == f"benefits.html:{row_line}-{row_line}"
