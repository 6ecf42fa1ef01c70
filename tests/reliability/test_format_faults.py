"""Bad PDF, HTML and DOCX files: each is skipped with a one-line reason, the rest is indexed.

One folder holds every case — damaged, encrypted, empty, scanned (no text layer), a
1,000-page PDF, wrong extensions — beside good files, and is indexed once through the real
CLI (`qa index`, in process, real model and FAISS). The quick tests call the extractor
directly and check that no library prints anything.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import run_cli_io
from format_docs import (
    document_xml,
    make_docx,
    make_encrypted_pdf,
    make_html,
    make_inflating_docx,
    make_long_pdf,
    make_pdf,
    make_scanned_pdf,
)

from qa.documents.formats import extract
from qa.documents.ingest import load_corpus

LONG_PAGES = 1000
BOMBS = ("inflates.docx", "many-paragraphs.docx", "empty-paragraphs.docx", "many-runs.docx", "many-parts.docx")


def make_bombs(folder: Path) -> None:
    """Word files of a few hundred KB that inflate to 120 MB, 250,000 paragraphs (with text,
    and empty), 2.1 million runs in one paragraph, or 6,000 parts."""
    make_inflating_docx(folder / "inflates.docx", extra={"word/media/blank.bin": bytes(120 * 1024 * 1024)})
    make_inflating_docx(folder / "many-paragraphs.docx", document_xml=document_xml("<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 250_000))
    make_inflating_docx(folder / "empty-paragraphs.docx", document_xml=document_xml("<w:p/>" * 250_000))
    make_inflating_docx(folder / "many-runs.docx", document_xml=document_xml("<w:p>" + "<w:r/>" * 2_100_000 + "</w:p>"))
    make_inflating_docx(folder / "many-parts.docx", extra={f"customXml/extra{i}.xml": b"<a/>" for i in range(6000)})

# file -> a fragment of the one-line reason it must be skipped with
SKIPPED = {
    "damaged.pdf": "damaged",
    "garbage.pdf": "damaged",
    "encrypted.pdf": "encrypted",
    "scanned.pdf": "no text layer (scanned?)",
    "empty.pdf": "empty file",
    "html-inside.pdf": "not a PDF file (it looks like HTML; wrong extension?)",
    "broken.docx": "damaged",
    "text-inside.docx": "not a Word file",
    "empty.docx": "empty file",
    "pdf-inside.html": "not an HTML file (it looks like a PDF file; wrong extension?)",
    "empty.html": "empty file",
    "nav-only.html": "no article text",
    # zips small on disk that inflate past the limits: refused before python-docx parses them
    "inflates.docx": "too large once unzipped",
    "many-paragraphs.docx": "too many paragraphs",
    "empty-paragraphs.docx": "too many paragraphs",
    "many-runs.docx": "too complex",
    "many-parts.docx": "too many parts inside",
}
# file -> words its passages must contain
INDEXED = {
    "good.pdf": "The new pumps were bought from a firm in Lima.",
    "good.html": "Rosa Quispe",
    "good.docx": "Pumamarca intake",
    "note.txt": "The archive in Cusco opens at nine in the morning.",
    "long.pdf": f"Gauge {LONG_PAGES} on the river Chili",
}


def build_folder(folder: Path) -> Path:
    """Every case of SKIPPED and INDEXED, generated in code."""
    folder.mkdir(parents=True, exist_ok=True)
    good = make_pdf(folder / "good.pdf")
    data = good.read_bytes()
    (folder / "damaged.pdf").write_bytes(data[: len(data) // 2])  # truncated: no cross-reference table
    (folder / "garbage.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    make_encrypted_pdf(folder / "encrypted.pdf")
    make_scanned_pdf(folder / "scanned.pdf")
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "html-inside.pdf").write_text("<!DOCTYPE html><html><body><p>Not a PDF at all.</p></body></html>", encoding="utf-8")
    docx = make_docx(folder / "good.docx").read_bytes()
    (folder / "broken.docx").write_bytes(docx[:3000])  # a zip cut short
    (folder / "text-inside.docx").write_text("Plain notes saved with the wrong name.\n", encoding="utf-8")
    (folder / "empty.docx").write_bytes(b"  \n")
    (folder / "pdf-inside.html").write_bytes(data)
    (folder / "empty.html").write_bytes(b"")
    (folder / "nav-only.html").write_text("<html><body><nav><a href='/'>Home</a> <a href='/x'>World</a></nav></body></html>", encoding="utf-8")
    make_html(folder / "good.html")
    make_bombs(folder)
    make_long_pdf(folder / "long.pdf", LONG_PAGES)
    (folder / "note.txt").write_text("The archive in Cusco opens at nine in the morning.\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def fault_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_folder(tmp_path_factory.mktemp("format-faults") / "docs")


# ---------------------------------------------------------------- quick: the extractor alone


@pytest.mark.parametrize("name", sorted(SKIPPED))
def test_bad_file_gives_one_line_reason_and_prints_nothing(fault_folder: Path, name: str, capfd: pytest.CaptureFixture[str]) -> None:
    ex, why = extract((fault_folder / name).read_bytes(), name)
    assert ex is None
    assert why is not None and SKIPPED[name] in why and "\n" not in why
    out, err = capfd.readouterr()  # file-descriptor level: C libraries included
    assert out == "" and err == ""


def test_load_corpus_skips_bad_files_and_reads_the_rest(fault_folder: Path, capfd: pytest.CaptureFixture[str]) -> None:
    corpus = load_corpus([fault_folder])
    reasons = {s.path: s.reason for s in corpus.skipped}
    for name, fragment in SKIPPED.items():
        assert fragment in reasons.get(name, ""), (name, reasons.get(name))
    texts = {d.path: d.text for d in corpus.documents}
    for name, words in INDEXED.items():
        assert words in texts.get(name, ""), name
    assert capfd.readouterr() == ("", "")


def test_thousand_page_pdf_is_read_fast_with_every_page(fault_folder: Path) -> None:
    started = time.perf_counter()
    ex, why = extract((fault_folder / "long.pdf").read_bytes(), "long.pdf")
    seconds = time.perf_counter() - started
    assert why is None and ex is not None
    assert len(ex.page_starts) == LONG_PAGES
    assert seconds < 50, f"{LONG_PAGES} pages took {seconds:.1f} s (target ≥ 20 pages/s)"


def test_size_cap_applies_to_pdf_bytes(fault_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_MAX_FILE_MB", "0.01")
    corpus = load_corpus([fault_folder / "long.pdf"])
    assert corpus.skipped and "too large" in corpus.skipped[0].reason


@pytest.mark.parametrize("name", BOMBS)
def test_docx_that_inflates_past_the_limits_is_refused_within_seconds(fault_folder: Path, name: str) -> None:
    data = (fault_folder / name).read_bytes()
    assert len(data) < 1024 * 1024  # small on disk: the file size cap does not see it
    started = time.perf_counter()
    ex, why = extract(data, name)
    assert ex is None and why is not None and SKIPPED[name] in why
    assert time.perf_counter() - started < 5


def test_inflate_limit_follows_the_file_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_inflating_docx(tmp_path / "padded.docx", extra={"word/media/blank.bin": bytes(6 * 1024 * 1024)})
    assert extract(path.read_bytes(), "padded.docx")[1] is None  # 6 MB inflated is well within 5 × 20 MB
    monkeypatch.setenv("QA_MAX_FILE_MB", "1")
    ex, why = extract(path.read_bytes(), "padded.docx")
    assert ex is None and why is not None and "too large once unzipped" in why and "5 MB" in why


def test_docx_whose_directory_understates_a_part_is_damaged(tmp_path: Path) -> None:
    """The limits trust the sizes in the zip's directory: a document part longer than declared
    must not get through whole (zipfile stops at the declared size and the CRC check fails)."""
    xml = document_xml("<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 250_000)
    data = bytearray(make_inflating_docx(tmp_path / "liar.docx", document_xml=xml).read_bytes())
    entry = data.rfind(b"PK\x01\x02", 0, data.rfind(b"word/document.xml"))  # its central directory entry
    assert int.from_bytes(data[entry + 24 : entry + 28], "little") == len(xml)  # uncompressed size
    data[entry + 24 : entry + 28] = (5000).to_bytes(4, "little")
    ex, why = extract(bytes(data), "liar.docx")
    assert ex is None and why is not None and "damaged" in why


def test_long_docx_under_the_limits_is_read_in_seconds(tmp_path: Path) -> None:
    """100,000 short paragraphs (61 KB on disk) took 142 s: python-docx searched the style
    list for each paragraph's style."""
    path = make_inflating_docx(tmp_path / "long.docx", document_xml=document_xml("".join(f"<w:p><w:r><w:t>Line {i} of the log.</w:t></w:r></w:p>" for i in range(100_000))))
    started = time.perf_counter()
    ex, why = extract(path.read_bytes(), "long.docx")
    assert why is None and ex is not None
    assert len(ex.lines) == 100_000 and ex.lines[-1] == "Line 99999 of the log."
    assert time.perf_counter() - started < 30


# ---------------------------------------------------------------- slow: the real CLI, once


@pytest.fixture(scope="module")
def indexed(fault_folder: Path) -> dict:  # type: ignore[type-arg]
    index = fault_folder.parent / "index"
    code, out, err = run_cli_io(["index", str(fault_folder), "--index-dir", str(index), "--quiet"])
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8")) if code == 0 else {}
    passages = [json.loads(line) for line in (index / "passages.jsonl").read_text(encoding="utf-8").splitlines()] if code == 0 else []
    return {"code": code, "out": out, "err": err, "manifest": manifest, "passages": passages, "index": index}


@pytest.mark.slow
def test_index_summary_lists_each_skipped_file_with_its_reason(indexed: dict) -> None:  # type: ignore[type-arg]
    assert indexed["code"] == 0, indexed["err"]
    assert "Traceback" not in indexed["out"] + indexed["err"]
    for name, fragment in SKIPPED.items():
        line = next((ln for ln in indexed["out"].splitlines() if f"skipped {name}:" in ln), None)
        assert line is not None and fragment in line, name
    recorded = {s["path"]: s["reason"] for s in indexed["manifest"]["corpus"]["skipped"]}
    assert set(SKIPPED) <= set(recorded)


@pytest.mark.slow
def test_rest_of_folder_indexed_with_pages(indexed: dict) -> None:  # type: ignore[type-arg]
    assert indexed["code"] == 0, indexed["err"]
    by_file: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for p in indexed["passages"]:
        by_file.setdefault(p["path"], []).append(p)
    for name, words in INDEXED.items():
        assert any(words in p["text"] for p in by_file.get(name, [])), name
    assert set(by_file) == set(INDEXED)
    last = max(p["page_end"] for p in by_file["long.pdf"])
    assert last == LONG_PAGES
    assert all(p["page"] is None for p in by_file["note.txt"] + by_file["good.html"])


@pytest.mark.slow
def test_no_library_output_on_the_terminal(indexed: dict) -> None:  # type: ignore[type-arg]
    err = indexed["err"].lower()
    for noise in ("warning:", "pypdf", "pdfium", "trafilatura", "lxml", "traceback"):
        assert noise not in err, indexed["err"]


@pytest.mark.slow
def test_ask_works_on_the_indexed_rest(indexed: dict) -> None:  # type: ignore[type-arg]
    code, out, err = run_cli_io(["ask", "Where were the new pumps bought?", "--index-dir", str(indexed["index"]), "--json"])
    assert code == 0, err
    obj = json.loads(out)
    assert not obj["abstained"] and "Lima" in obj["answer"]
    assert obj["sources"][0]["file"] == "good.pdf" and obj["sources"][0]["page"] == 2


def test_pdf_with_some_pages_without_text_is_indexed_with_a_warning(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 7, "The typed page says the dam holds nine million cubic metres.")
    pdf.add_page()
    pdf.rect(20, 20, 150, 200, style="F")  # a scanned page: no text layer
    pdf.output(str(tmp_path / "mixed.pdf"))
    corpus = load_corpus([tmp_path / "mixed.pdf"])
    assert not corpus.skipped and "nine million cubic metres" in corpus.documents[0].text
    assert corpus.warnings == ("mixed.pdf: 1 of 2 pages has no text layer (scanned?)",)
