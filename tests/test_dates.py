"""The date shown beside a citation (and in CSV/JSON) is the document's own: its metadata, a
front-matter `date:` or its dateline — never a date its text merely mentions, a Word
template's creation date, or the file's modification time. When unsure, no date."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from qa.documents.clean import clean_text
from qa.documents.formats import extract, to_documents
from qa.documents.ingest import load_corpus


def _date_of(path: Path) -> str | None:
    corpus = load_corpus([path.parent])
    (doc,) = [d for d in corpus.documents if d.path == path.name]
    return doc.date


# ---------------------------------------------------------------- plain text and Markdown

NOTE = """12 March 2024

Standup notes. Anna will send the budget to the board before the next meeting.

Next meeting 22 March 2024

The printer on the second floor is broken again.
"""


def test_a_note_titled_with_a_date_is_dated_by_it_not_by_a_date_in_its_text(tmp_path: Path) -> None:
    note = tmp_path / "standup.txt"
    note.write_text(NOTE, encoding="utf-8")
    assert _date_of(note) == "12 March 2024"
    # edited later: a new date in the text and a new mtime change nothing
    note.write_text(NOTE + "\nFollow-up on 26 March 2024\n", encoding="utf-8")
    os.utime(note, (dt.datetime(2024, 3, 26).timestamp(),) * 2)
    assert _date_of(note) == "12 March 2024"


def test_a_date_the_text_mentions_is_not_the_documents_date(tmp_path: Path) -> None:
    note = tmp_path / "plans.txt"
    note.write_text(
        "Plans for the spring\n\nDeadline moved to 22 March 2024\n\nThe team will meet in the library to agree on the budget.\n",
        encoding="utf-8",
    )
    os.utime(note, (dt.datetime(2024, 3, 26).timestamp(),) * 2)
    assert _date_of(note) is None  # neither the mentioned date nor the file's mtime


def test_a_dateline_under_the_title_or_a_signed_off_date_is_the_date() -> None:
    under = "River levels in Puno\n\n5 March 2024\n\nThe river rose by two metres in the night, officials said.\n"
    assert clean_text(under, "a.txt")[0].date == "5 March 2024"
    published = "River levels in Puno\n\nOriginally published in The Andes Post, March 5, 2024\n\nThe river rose by two metres in the night.\n"
    assert clean_text(published, "b.txt")[0].date == "March 5, 2024"
    signed = "River levels in Puno\n\nThe river rose by two metres in the night, officials said.\n\nThe Andes Post 05.03.2024\n"
    assert clean_text(signed, "c.txt")[0].date == "05.03.2024"


def test_front_matter_date_wins_over_a_date_in_the_text() -> None:
    page = "---\ntitle: Spring plans\ndate: 2024-03-12\n---\n\nSpring plans\n\n22 March 2024\n\nThe team will meet in the library.\n"
    (doc,) = clean_text(page, "p.md")
    assert doc.date == "2024-03-12"


# ---------------------------------------------------------------- Word


def _docx(path: Path, paragraphs: list[str], created: dt.datetime | None = None, modified: dt.datetime | None = None) -> Path:
    import docx

    document = docx.Document()  # python-docx's default template: created and modified 2013-12-23
    if created is not None:
        document.core_properties.created = created
    if modified is not None:
        document.core_properties.modified = modified
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def _extracted_date(path: Path) -> str | None:
    ex, why = extract(path.read_bytes(), path.name)
    assert ex is not None, why
    (doc,) = to_documents(ex, path.name)
    return doc.date


def test_a_word_file_is_not_dated_by_its_templates_creation_date(tmp_path: Path) -> None:
    path = _docx(tmp_path / "memo.docx", ["Benefits", "Employees may use the gym on the third floor."])
    assert _extracted_date(path) is None


def test_a_word_files_own_creation_date_is_its_date(tmp_path: Path) -> None:
    path = _docx(tmp_path / "memo.docx", ["Benefits", "Employees may use the gym."], dt.datetime(2024, 3, 5, 9), dt.datetime(2024, 3, 7, 9))
    assert _extracted_date(path) == "2024-03-05"


def test_a_word_files_inconsistent_dates_give_no_date(tmp_path: Path) -> None:
    path = _docx(tmp_path / "memo.docx", ["Benefits", "Employees may use the gym."], dt.datetime(2024, 3, 5, 9), dt.datetime(2020, 1, 1, 9))
    assert _extracted_date(path) is None  # modified before it was created: neither can be trusted


def test_a_word_file_without_metadata_is_dated_by_its_dateline(tmp_path: Path) -> None:
    path = _docx(tmp_path / "memo.docx", ["Staff memo", "5 March 2024", "The canteen closes early on Friday for the staff party on 22 March 2024."])
    assert _extracted_date(path) == "5 March 2024"


# ---------------------------------------------------------------- web pages and PDF

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Spring plans</title>{meta}</head>
<body><article><h1>Spring plans</h1>
<p>The team agreed on the budget for the spring. The printer on the second floor will be replaced,
and the library will stay open until eight in the evening from now on.</p>
<p>The next meeting of the board is on 22 March 2024, when the new printer will be chosen from three
offers that the office manager collected over the winter.</p>
</article></body></html>
"""


def test_a_web_page_is_dated_by_its_metadata_not_by_a_date_in_its_text(tmp_path: Path) -> None:
    plain = tmp_path / "plain.html"
    plain.write_text(PAGE.format(meta=""), encoding="utf-8")
    assert _extracted_date(plain) is None
    dated = tmp_path / "dated.html"
    dated.write_text(PAGE.format(meta='<meta property="article:published_time" content="2024-03-05">'), encoding="utf-8")
    assert _extracted_date(dated) == "2024-03-05"


def test_a_pdf_is_dated_by_its_creation_date(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(dt.datetime(2024, 3, 5, 9, tzinfo=dt.timezone.utc))
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 7, "The next meeting of the board is on 22 March 2024.")
    path = tmp_path / "minutes.pdf"
    pdf.output(str(path))
    assert _extracted_date(path) == "2024-03-05"


@pytest.mark.slow
def test_citations_json_and_csv_carry_the_documents_own_date(tmp_path: Path) -> None:
    import csv
    import json

    from conftest import run_cli_io

    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "standup.txt").write_text(NOTE, encoding="utf-8")
    os.utime(folder / "standup.txt", (dt.datetime(2024, 3, 26).timestamp(),) * 2)
    _docx(folder / "canteen.docx", ["Canteen", "The canteen on the ground floor serves soup from noon until three in the afternoon."])
    index = tmp_path / "idx"
    code, _, err = run_cli_io(["index", str(folder), "--index-dir", str(index), "--quiet"])
    assert code == 0, err
    code, out, err = run_cli_io(["ask", "Who will send the budget to the board?", "-c", str(folder), "--index-dir", str(index), "--json", "--min-score", "0"])
    assert code == 0, err
    obj = json.loads(out)
    dates = {s["file"]: s["date"] for s in obj["sources"]}
    assert dates["standup.txt"] == "12 March 2024"
    assert dates.get("canteen.docx") is None  # not the template's 2013-12-23
    questions = tmp_path / "q.txt"
    questions.write_text("Who will send the budget to the board?\nWhen does the canteen serve soup?\n", encoding="utf-8")
    answers = tmp_path / "a.csv"
    code, _, err = run_cli_io(["batch", str(questions), "--out", str(answers), "-c", str(folder), "--index-dir", str(index), "--min-score", "0"])
    assert code == 0, err
    rows = list(csv.DictReader(answers.open(encoding="utf-8")))
    by_file = {r["location"].split(":")[0]: r["date"] for r in rows}
    assert by_file == {"standup.txt": "12 March 2024", "canteen.docx": ""}
