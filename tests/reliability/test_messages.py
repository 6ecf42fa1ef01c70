"""Messages that must read right (issue 37 item 13, issue 35): counts of what was really
indexed, singular nouns and verbs, a help text that names the real default, a progress bar
that counts files, and piped output that is not cut at 80 columns.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import run_cli, write_corpus

from qa.config import default_settings

LONG = "The observatory above Arequipa records every tremor of the Misti volcano with twelve seismometers placed around its crater rim"


def odd_corpus(root: Path) -> Path:
    """One document and three files that are read but give none (empty, binary, a broken PDF)."""
    write_corpus(root, {"good.txt": "Alpacas live in the high Andes of Peru. A herd in Puno counted 340 animals in 2021.\n"})
    (root / "empty.txt").write_text("")
    (root / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 64)
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a PDF")
    return root


@pytest.mark.slow
def test_indexed_counts_only_files_that_gave_documents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = odd_corpus(tmp_path / "c")
    code, out, err = run_cli(["index", str(corpus), "--index-dir", str(tmp_path / "idx")], capsys)
    assert code == 0, err
    assert "Indexed 1 file → 1 document, " in out and "3 files skipped." in out, out
    code, out, err = run_cli(["index", str(corpus), "--index-dir", str(tmp_path / "idx2"), "--json"], capsys)
    summary = json.loads(out)
    assert summary["files"] == 1 and len(summary["skipped_files"]) == 3, summary


def test_a_pdf_with_one_blank_page_says_has(tmp_path: Path) -> None:
    from fpdf import FPDF

    from qa.documents.formats.pdf import extract_pdf

    for blank, total, verb in ((1, 3, "has"), (2, 3, "have")):
        pdf = FPDF()
        pdf.set_font("Helvetica", size=12)
        for i in range(total):
            pdf.add_page()
            if i >= blank:
                pdf.cell(0, 10, f"Page {i + 1} holds the text of the report.")
        note = extract_pdf(bytes(pdf.output())).note
        assert note == f"{blank} of {total} pages {verb} no text layer (scanned?)", note


def test_index_help_names_the_default_encoder(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["index", "--help"], capsys)
    assert code == 0
    flat = " ".join(out.split())
    said = re.search(r"default: \$QA_BACKEND, else ([\w-]+)", flat)
    assert said and said.group(1) == default_settings().backend, flat


def test_reading_progress_counts_files(tmp_path: Path) -> None:
    from qa.index.folder import read_passages

    corpus = write_corpus(tmp_path / "c", {f"d{i}/note{i}.txt": f"Note {i}: the herd in Puno counted {300 + i} animals.\n" for i in range(6)})
    calls: list[tuple[str, int, int]] = []
    read_passages([corpus], default_settings().__class__(), progress=lambda stage, done, total: calls.append((stage, done, total)))
    reads = [(d, t) for s, d, t in calls if s == "read"]
    assert reads[0] == (0, 6) and reads[-1] == (6, 6), reads
    assert [d for d, _ in reads] == sorted(d for d, _ in reads)


def test_piped_tables_are_not_cut_at_80_columns(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.table import Table

    from qa.commands.common import stdout_console

    table = Table(title="Failures")
    table.add_column("question")
    table.add_column("expected")
    table.add_row(LONG, "twelve seismometers")
    stdout_console().print(table)
    out = capsys.readouterr().out
    assert any(LONG in line and "twelve seismometers │" in line for line in out.splitlines()), out


@pytest.mark.slow
def test_piped_search_keeps_each_passage_line_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = write_corpus(tmp_path / "c", {"misti.txt": f"The Misti observatory\n\n{LONG}.\n"})
    assert run_cli(["index", str(corpus), "--index-dir", str(tmp_path / "idx")], capsys)[0] == 0
    code, out, err = run_cli(["search", "How many seismometers watch the Misti?", "--index-dir", str(tmp_path / "idx")], capsys)
    assert code == 0 and LONG in out, out
    assert max(len(line) for line in out.splitlines()) < 400  # a panel fits its text, it is not padded to the wide width
