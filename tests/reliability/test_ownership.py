"""Never destroy what the user owns (issue 17): folders that are not indexes, questions files,
earlier exports; and never hang, crash or answer from the wrong corpus on odd files.

Every odd thing (a FIFO, a link to a device, a socket, a file name that is not UTF-8, a file
deleted while the build reads) is made here, inside tmp_path, by the test that needs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ROOT, run_cli, write_corpus

from qa.config import IndexSettings
from qa.index.folder import MANIFEST, build_index, load_index

QUESTION = "How many animals did the herd in Puno count?"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(corpus, index) of the small corpus: for the tests that only query."""
    root = tmp_path_factory.mktemp("ownership")
    corpus = write_corpus(root / "corpus")
    build_index([corpus], root / "idx", IndexSettings())
    return corpus, root / "idx"


@contextlib.contextmanager
def hang_guard(seconds: int = 120) -> Iterator[None]:
    """Fail (instead of hanging the suite) if the block blocks: SIGALRM interrupts a blocked open."""

    def fire(signum: int, frame: object) -> None:
        raise TimeoutError(f"blocked for {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and "Traceback" not in err


# --------------------------------------------------------------------------- 1. folders that are not indexes


@pytest.mark.slow
def test_index_dir_holding_user_files_is_refused(small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "thesis.docx").write_text("x\n")
    code, out, err = run_cli(["index", str(small_corpus), "--index-dir", str(folder)], capsys)
    assert code == 2 and one_line(err), err
    assert "holds files that are not a qa index (thesis.docx); choose another --index-dir" in err
    assert sorted(os.listdir(folder)) == ["thesis.docx"] and (folder / "thesis.docx").read_text() == "x\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "f"]  # no temp or aside folder, no lock file left


@pytest.mark.slow
@pytest.mark.parametrize("where", ["equal", "inside"])
def test_index_dir_in_the_corpus_is_refused(small_corpus: Path, capsys: pytest.CaptureFixture[str], where: str) -> None:
    before = sorted(str(p.relative_to(small_corpus)) for p in small_corpus.rglob("*"))
    target = small_corpus if where == "equal" else small_corpus / "sub" / "idx"
    code, _, err = run_cli(["index", str(small_corpus), "--index-dir", str(target)], capsys)
    assert code == 2 and one_line(err) and "is inside the corpus" in err and "choose an --index-dir outside it" in err, err
    assert sorted(str(p.relative_to(small_corpus)) for p in small_corpus.rglob("*")) == before


@pytest.fixture
def bundled(bundled_corpus: Path) -> Path:
    """A stand-in for seeds/ (rebuilt automatically by ask/chat/eval); the real one is never touched."""
    return bundled_corpus


@pytest.mark.slow
def test_automatic_rebuild_never_replaces_a_user_folder(bundled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from qa.engine import open_index
    from qa.errors import IndexProblem

    mine = tmp_path / "myfolder"
    mine.mkdir()
    (mine / "report.docx").write_bytes(b"PK\x03\x04 mine")
    code, _, err = run_cli(["ask", QUESTION, "-c", str(bundled), "--index-dir", str(mine)], capsys)  # ask rebuilds seeds on its own
    assert code == 2 and one_line(err) and "holds files that are not a qa index (report.docx)" in err, err
    with pytest.raises(IndexProblem, match="not a qa index"):  # chat: build_missing=True
        open_index([tmp_path / "seeds"], mine, build_missing=True)
    assert os.listdir(mine) == ["report.docx"] and (mine / "report.docx").read_bytes() == b"PK\x03\x04 mine"


@pytest.mark.slow
def test_index_dir_dot_is_refused_without_a_dotdot_lock(small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "here"
    here.mkdir()
    (here / "notes.odt").write_text("mine")
    monkeypatch.chdir(here)
    code, _, err = run_cli(["index", str(small_corpus), "--index-dir", "."], capsys)
    assert code == 2 and one_line(err) and "not a qa index (notes.odt)" in err and "busy" not in err, err
    assert not list(tmp_path.rglob("..lock")) and os.listdir(here) == ["notes.odt"]


@pytest.mark.slow
def test_an_index_of_ours_is_still_replaced_and_lookalike_leftovers_are_kept(small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "idx"
    assert run_cli(["index", str(small_corpus), "--index-dir", str(target)], capsys)[0] == 0
    lookalike = tmp_path / ".idx.tmp-mine"  # a user's folder that happens to look like a leftover
    lookalike.mkdir()
    (lookalike / "keep.txt").write_text("keep")
    code, out, err = run_cli(["index", str(small_corpus), "--index-dir", str(target), "--force"], capsys)
    assert code == 0, err
    assert (lookalike / "keep.txt").read_text() == "keep"
    assert load_index(target).manifest["counts"]["documents"] == 3


@pytest.mark.slow
def test_a_symlinked_index_is_rebuilt_where_it_points(small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "real-idx"
    build_index([small_corpus], real, IndexSettings())
    link = tmp_path / "idx"
    link.symlink_to(real)
    code, _, err = run_cli(["index", str(small_corpus), "--index-dir", str(link), "--force"], capsys)
    assert code == 0, err
    assert link.is_symlink() and (real / MANIFEST).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".real-idx.lock", "corpus", "idx", "real-idx"]


# --------------------------------------------------------------------------- 2. a corpus that moved or vanished


@pytest.mark.slow
def test_qa_index_with_only_index_dir_refreshes_its_own_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = write_corpus(tmp_path / "notes")
    index = tmp_path / "I"
    build_index([notes], index, IndexSettings())
    (notes / "extra.txt").write_text("Extra\n\nQuinoa grows well at altitude in the Andes.\n")
    code, out, err = run_cli(["index", "--index-dir", str(index)], capsys)  # no path: its own corpus, not seeds/
    assert code == 0 and "Indexed 4 files" in out, out + err
    assert json.loads((index / MANIFEST).read_text())["corpus"]["paths"] == [str(notes.resolve())]
    notes.rename(tmp_path / "moved")
    before = (index / MANIFEST).read_text()
    code, out, err = run_cli(["index", "--index-dir", str(index)], capsys)
    assert code == 2 and one_line(err) and str(notes) in err and "is missing" in err and "qa index NEW_PLACE" in err, err
    assert (index / MANIFEST).read_text() == before


@pytest.mark.slow
def test_moved_corpus_is_queried_as_built_never_rebuilt_from_seeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = write_corpus(tmp_path / "notes")
    index = tmp_path / "I"
    build_index([notes], index, IndexSettings())
    before = (index / MANIFEST).read_text()
    notes.rename(tmp_path / "notes2")
    code, out, err = run_cli(["ask", QUESTION, "--index-dir", str(index), "--json"], capsys)
    assert code == 0 and "340" in json.loads(out)["answer"]  # the span's extent is the answer layer's business
    assert one_line(err) and "warning: the corpus of the index" in err and str(notes) in err and "qa index NEW_PLACE" in err, err
    assert (index / MANIFEST).read_text() == before  # not rebuilt, from seeds/ or anything else


@pytest.mark.slow
def test_moved_corpus_and_damaged_index_is_one_line_naming_the_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = write_corpus(tmp_path / "notes")
    index = tmp_path / "I"
    build_index([notes], index, IndexSettings())
    (index / "vectors.faiss").write_bytes(b"")
    shutil.rmtree(notes)
    code, out, err = run_cli(["ask", QUESTION, "--index-dir", str(index)], capsys)
    assert code == 2 and one_line(err) and str(notes) in err and "is missing" in err and "qa index NEW_PLACE" in err, err
    assert (index / "vectors.faiss").read_bytes() == b""  # left as it was


@pytest.mark.slow
def test_hint_for_an_index_of_other_paths_names_the_corpus_asked_for(built: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus, index = built
    other = write_corpus(tmp_path / "other")
    code, _, err = run_cli(["ask", QUESTION, "-c", str(other), "--index-dir", str(index)], capsys)
    assert code == 2 and one_line(err) and "built from other paths" in err, err
    assert f"qa index {other.resolve()} --index-dir {index}" in err and "leave out --corpus" in err


# --------------------------------------------------------------------------- 3, 4. batch output and resume


@pytest.mark.slow
@pytest.mark.parametrize("how", ["same-path", "symlink", "hardlink"])
def test_batch_out_equal_to_the_questions_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": QUESTION}) + "\n")
    out = questions if how == "same-path" else tmp_path / "a.jsonl"
    if how == "symlink":
        out.symlink_to(questions)
    elif how == "hardlink":
        os.link(questions, out)
    code, _, err = run_cli(["batch", str(questions), "--out", str(out)], capsys)
    assert code == 2 and one_line(err) and "is the questions file" in err, err
    assert questions.read_text() == json.dumps({"question": QUESTION}) + "\n"


def test_batch_out_under_a_file_says_what_is_wrong(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions = tmp_path / "q.txt"
    questions.write_text(QUESTION + "\n")
    (tmp_path / "somefile.txt").write_text("mine")
    code, _, err = run_cli(["batch", str(questions), "--out", str(tmp_path / "somefile.txt" / "answers.jsonl")], capsys)
    assert code == 2 and one_line(err) and "somefile.txt is a file, not a folder" in err and "File exists" not in err, err


def test_duplicate_ids_are_renamed_and_said() -> None:
    from qa.commands.batch import Row, unique_ids

    rows = [Row("2", "explicit id two", line=1), Row("2", "id-less row on line 2", line=2), Row("2~2", "taken", line=3)]
    out, notes = unique_ids(rows)
    assert [r.id for r in out] == ["2", "2~3", "2~2"] and len({r.id for r in out}) == 3
    assert notes == ["line 2: id '2' → '2~3'"]


@pytest.mark.slow
def test_resume_with_a_colliding_id_answers_every_row_once(built: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, index = built
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "2", "question": QUESTION}) + "\n" + json.dumps({"question": "Where is Misti?"}) + "\n")
    out = tmp_path / "a.jsonl"
    code, _, err = run_cli(["batch", str(questions), "--out", str(out), "--index-dir", str(index)], capsys)
    assert code == 0 and "1 duplicate id renamed" in err and "2 rows written" in err, err
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["2", "2~2"]
    code, _, err = run_cli(["batch", str(questions), "--out", str(out), "--index-dir", str(index), "--resume"], capsys)
    assert code == 0 and "0 rows written" in err and "2 skipped as already done" in err, err
    assert len(out.read_text().splitlines()) == 2


@pytest.mark.slow
def test_resume_reads_a_csv_resaved_with_a_bom(built: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, index = built
    questions = tmp_path / "q.txt"
    questions.write_text(f"{QUESTION}\nWhere is Misti?\n")
    out = tmp_path / "a.csv"
    assert run_cli(["batch", str(questions), "--out", str(out), "--index-dir", str(index)], capsys)[0] == 0
    out.write_bytes(b"\xef\xbb\xbf" + out.read_bytes())  # what a spreadsheet does on save
    code, _, err = run_cli(["batch", str(questions), "--out", str(out), "--index-dir", str(index), "--resume"], capsys)
    assert code == 0 and "0 rows written" in err and "2 skipped as already done" in err, err
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [r["id"] for r in rows] == ["1", "2"]


def test_resume_into_a_csv_without_an_id_column_is_refused(tmp_path: Path) -> None:
    from qa.commands.batch import done_ids
    from qa.errors import UsageError

    out = tmp_path / "a.csv"
    out.write_text("question,answer\nq,a\n")
    with pytest.raises(UsageError, match="no 'id' column"):
        done_ids(out)


@pytest.mark.slow
def test_a_batch_of_one_says_1_row(built: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, index = built
    questions = tmp_path / "q.txt"
    questions.write_text(QUESTION + "\n")
    code, _, err = run_cli(["batch", str(questions), "--out", str(tmp_path / "a.jsonl"), "--index-dir", str(index)], capsys)
    assert code == 0 and "1 row written" in err and "0 errors" in err and "1 rows" not in err, err


# --------------------------------------------------------------------------- 4b. outputs never replace a file


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_batch_never_replaces_an_existing_file(built: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str) -> None:
    _, index = built
    questions = tmp_path / "q.txt"
    questions.write_text(QUESTION + "\n")
    earlier = tmp_path / f"earlier{suffix}"
    earlier.write_text('{"precious": 1}\n')
    code, _, err = run_cli(["batch", str(questions), "--out", str(earlier), "--index-dir", str(index)], capsys)
    assert code == 2 and one_line(err) and "already exists" in err and "--resume" in err, err
    assert earlier.read_text() == '{"precious": 1}\n'
    fresh = tmp_path / f"fresh{suffix}"
    assert run_cli(["batch", str(questions), "--out", str(fresh), "--index-dir", str(index)], capsys)[0] == 0
    assert fresh.read_text()  # a new name is written


@pytest.mark.slow
@pytest.mark.parametrize("name", ["passages.jsonl", "answers.jsonl"])
def test_batch_out_inside_an_index_is_refused(built: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    _, index = built
    questions = tmp_path / "q.txt"
    questions.write_text(QUESTION + "\n")
    before = {p.name: p.read_bytes() for p in index.iterdir() if p.is_file()}
    code, _, err = run_cli(["batch", str(questions), "--out", str(index / name), "--index-dir", str(index)], capsys)
    assert code == 2 and one_line(err) and "inside the qa index" in err, err
    assert {p.name: p.read_bytes() for p in index.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("option", ["--run", "--qrels"])
def test_eval_outputs_never_replace_the_gold_set_a_document_or_an_earlier_run(tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "q1", "question": QUESTION, "answers": ["12"], "evidence": "12", "doc": "a.txt"}) + "\n")
    document = next(p for p in sorted(corpus.rglob("*")) if p.is_file())
    earlier = tmp_path / "earlier.trec"
    earlier.write_text("q1 Q0 d 1 1 mine\n")
    kept = {p: p.read_bytes() for p in (gold, document, earlier)}
    for target, fragment in [(gold, "is the gold set"), (document, "already exists"), (earlier, "already exists")]:
        code, _, err = run_cli(["eval", str(gold), "-c", str(corpus), option, str(target)], capsys)
        assert code == 2 and one_line(err) and fragment in err, err
    same = tmp_path / "same.trec"
    code, _, err = run_cli(["eval", str(gold), "-c", str(corpus), "--run", str(same), "--qrels", str(same)], capsys)
    assert code == 2 and one_line(err) and "are the same file" in err, err
    assert {p: p.read_bytes() for p in kept} == kept and not same.exists()


def test_csv_cells_that_look_like_formulas_are_not_run() -> None:
    from qa.commands.batch import spreadsheet_safe

    assert [spreadsheet_safe(c) for c in ["=cmd|' /C calc'!A1", "@SUM(A1)", "+cmd", "-x", "\t=1"]] == ["'=cmd|' /C calc'!A1", "'@SUM(A1)", "'+cmd", "'-x", "'\t=1"]
    assert [spreadsheet_safe(c) for c in ["-5", "+2.5%", "1,300", "a = b", ""]] == ["-5", "+2.5%", "1,300", "a = b", ""]


def test_a_utf16_questions_file_is_read(tmp_path: Path) -> None:
    from qa.commands.batch import read_questions

    questions = tmp_path / "q.txt"
    questions.write_bytes(f"{QUESTION}\nWhere is Misti?\n".encode("utf-16"))
    assert [r.question for r in read_questions(questions)] == [QUESTION, "Where is Misti?"]


@pytest.mark.slow
def test_a_batch_whose_every_row_is_broken_fails(built: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, index = built
    questions = tmp_path / "q.jsonl"
    questions.write_text("{broken\nnot json either\n")
    out = tmp_path / "a.jsonl"
    code, _, err = run_cli(["batch", str(questions), "--out", str(out), "--index-dir", str(index)], capsys)
    assert code == 2 and "every row is an error" in err, err
    assert [json.loads(line)["error"] for line in out.read_text().splitlines()]  # the reasons are written


# --------------------------------------------------------------------------- 5. chat exports


def test_two_exports_in_one_second_keep_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tui.app
    from tui.app import QaApp

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tui.app.time, "strftime", lambda fmt: "20260101-120000")  # the same second
    texts = iter(["first export\n", "second export\n", "third export\n"])
    monkeypatch.setattr(tui.app, "transcript_markdown", lambda answers: next(texts))
    said: list[str] = []
    app = SimpleNamespace(turns=[SimpleNamespace(answer=object())], notify=lambda msg, **kw: said.append(msg))
    for _ in range(3):
        QaApp.action_export(app, "md")  # type: ignore[arg-type]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["qa-chat-20260101-120000-1.md", "qa-chat-20260101-120000-2.md", "qa-chat-20260101-120000.md"]
    assert (tmp_path / "qa-chat-20260101-120000.md").read_text() == "first export\n"
    assert (tmp_path / "qa-chat-20260101-120000-1.md").read_text() == "second export\n"
    assert said[0].startswith("Exported 1 answer to ")  # one answer, not "1 answers"


# --------------------------------------------------------------------------- 6-8. odd files in the corpus


@pytest.fixture
def odd_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    corpus = write_corpus(tmp_path / "corpus")
    os.mkfifo(corpus / "pipe.txt")
    os.symlink(corpus / "pipe.txt", corpus / "pipelink.txt")
    os.symlink("/dev/zero", corpus / "zero.txt")
    os.symlink("/dev/urandom", corpus / "random.txt")
    (corpus / "notes.rst").write_text("Restructured text is not read.\n")
    (corpus / ".hidden.txt").write_text("A hidden file is not read.\n")
    (corpus / ".git").mkdir()
    (corpus / ".git" / "HEAD.txt").write_text("ref\n")
    # a file name that is not UTF-8 (Latin-1 "café"), made from bytes
    with open(os.fsencode(corpus) + b"/caf\xe9.txt", "w", encoding="utf-8") as fh:
        fh.write("The cafe\n\nThe cafe in Puno serves coca tea to 75 travellers a day.\n")
    monkeypatch.chdir(corpus)  # a socket's path must be short: bind it relative to the corpus
    sock = socket.socket(socket.AF_UNIX)
    sock.bind("sock.txt")
    yield corpus
    sock.close()


ODD_SKIPS = {
    "pipe.txt": "not a regular file (a FIFO)",
    "pipelink.txt": "not a regular file (a FIFO)",
    "zero.txt": "not a regular file (a device)",
    "random.txt": "not a regular file (a device)",
    "sock.txt": "not a regular file (a socket)",
    "notes.rst": "not a supported type (.rst)",
    ".hidden.txt": "hidden file",
    ".git": "hidden folder",
}


@pytest.mark.slow
@pytest.mark.parametrize("links", ["--follow-links", "--no-follow-links"])
def test_odd_files_are_skipped_with_a_reason_never_hang_or_crash(odd_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], links: str) -> None:
    """The devices are reached by links leading outside the corpus: skipped as such by default,
    and as devices (never read) when links are followed."""
    from qa.documents.ingest import OUTSIDE

    expected = ODD_SKIPS if links == "--follow-links" else {**ODD_SKIPS, "zero.txt": OUTSIDE, "random.txt": OUTSIDE}
    index = tmp_path / "idx"
    with hang_guard():
        code, out, err = run_cli(["index", str(odd_corpus), "--index-dir", str(index), links], capsys)
        assert code == 0 and "Traceback" not in err, err
        manifest = json.loads((index / MANIFEST).read_text())
        skipped = {s["path"]: s["reason"] for s in manifest["corpus"]["skipped"]}
        for name, reason in expected.items():
            assert skipped.get(name) == reason, (name, skipped)
            assert f"  skipped {name}: {reason}" in out.splitlines(), out
        # only regular files read are counted: 3 documents + café, not the FIFO, socket or devices
        assert manifest["counts"]["files"] == 4 and out.startswith("Indexed 4 files"), out
        assert f"{len(ODD_SKIPS)} files skipped." in out
        # the next load fingerprints the corpus again: it must not block on the FIFO either
        code, out, err = run_cli(["index", str(odd_corpus), "--index-dir", str(index)], capsys)
        assert code == 0 and "is up to date" in out, out + err


@pytest.mark.slow
def test_undecodable_file_name_is_indexed_and_shown_escaped(odd_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "idx"
    with hang_guard():
        assert run_cli(["index", str(odd_corpus), "--index-dir", str(index), "--quiet"], capsys)[0] == 0
        code, out, err = run_cli(["ask", "How many travellers does the cafe in Puno serve a day?", "--index-dir", str(index), "--json"], capsys)
    assert code == 0, err
    answer = json.loads(out)
    assert "75" in answer["answer"] and answer["sources"][0]["file"] == "caf\\xe9.txt"
    code, out, err = run_cli(["search", "coca tea travellers", "--index-dir", str(index)], capsys)
    assert code == 0 and "caf\\xe9.txt" in out, out + err


@pytest.mark.slow
def test_undecodable_folder_names_for_corpus_and_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from qa.config import default_index_dir

    base = os.fsencode(tmp_path)
    os.mkdir(base + b"/not\xffes")
    with open(base + b"/not\xffes/caf\xe9.txt", "w", encoding="utf-8") as fh:
        fh.write("The cafe\n\nThe cafe in Puno serves coca tea to 75 travellers a day.\n\nA second paragraph.\n")
    corpus, index = os.fsdecode(base + b"/not\xffes"), os.fsdecode(base + b"/idx\xfe")
    assert default_index_dir([Path(corpus)]).name.startswith("not_es-")  # hashing the name does not crash
    code, out, err = run_cli(["index", corpus, "--index-dir", index], capsys)
    assert code == 0 and "Traceback" not in err and "idx\\xfe" in out, out + err  # as file names are shown (shown_path)
    code, out, err = run_cli(["ask", "How many travellers does the cafe serve a day?", "--index-dir", index, "--json"], capsys)
    assert code == 0, err
    source = json.loads(out)["sources"][0]
    assert "75" in json.loads(out)["answer"] and source["file"] == "caf\\xe9.txt" and source["lines"] == [3, 3]


def test_size_cap_counts_the_bytes_read_not_what_stat_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.documents.ingest import read_bytes

    monkeypatch.setenv("QA_MAX_FILE_MB", str(100 / (1024 * 1024)))  # 100 bytes
    maps = Path("/proc/self/maps")  # a regular file whose stat size is 0, however much it holds
    if not maps.exists() or os.stat(maps).st_size != 0:
        pytest.skip("needs a /proc file whose stat size is 0")
    link = tmp_path / "maps.txt"
    link.symlink_to(maps)
    data, why = read_bytes(link)
    assert data is None and why is not None and why.startswith("too large (more than")


# --------------------------------------------------------------------------- 9. a file deleted during the build


@pytest.mark.slow
def test_file_deleted_during_the_build_makes_the_index_stale(small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import qa.documents.ingest
    from qa.index.folder import read_manifest, staleness

    real = qa.documents.ingest.read_bytes
    victim = small_corpus / "alpaca.txt"

    def read_then_delete(path: Path) -> tuple[bytes | None, str | None]:
        got = real(path)
        if path.name == victim.name and victim.exists():
            victim.unlink()  # the user deletes it just after the build has read it
        return got

    monkeypatch.setattr(qa.documents.ingest, "read_bytes", read_then_delete)
    index = tmp_path / "idx"
    build_index([small_corpus], index, IndexSettings())
    monkeypatch.setattr(qa.documents.ingest, "read_bytes", real)
    assert any(p.path == "alpaca.txt" for p in load_index(index).passages)  # it was read, so it is in the index
    assert staleness(read_manifest(index), [small_corpus], IndexSettings()) == "the documents changed since it was built"
    older = read_manifest(index)
    older["corpus"]["ingest_version"] = "1"  # as if built by a qa that read documents another way
    assert staleness(older, [small_corpus], IndexSettings()) == "it was built by an earlier qa, which read the documents differently"
    code, out, err = run_cli(["index", str(small_corpus), "--index-dir", str(index)], capsys)
    assert code == 0 and "Indexed 2 files" in out, out + err
    assert not any(p.path == "alpaca.txt" for p in load_index(index).passages)


# --------------------------------------------------------------------------- 10. a broken pipe


@pytest.mark.slow
def test_broken_pipe_exits_0_quietly(built: tuple[Path, Path]) -> None:
    _, index = built
    for argv in (["ask", QUESTION], ["ask", QUESTION, "--json"], ["search", QUESTION]):
        proc = subprocess.Popen(
            [sys.executable, "-m", "qa.cli", *argv, "--index-dir", str(index)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        proc.stdout.close()  # type: ignore[union-attr] - the reader is gone before qa writes: `qa … | head -0`
        err = proc.stderr.read()  # type: ignore[union-attr]
        assert proc.wait(timeout=300) == 0 and err == b"", (argv, err)


# --------------------------------------------------------------------------- messages


def test_many_skips_of_one_reason_are_one_summary_line() -> None:
    from qa.commands.index import skip_lines

    skipped = [{"path": f"doc{i}.pdf", "reason": "not a supported type (.pdf)"} for i in range(40)]
    skipped.append({"path": "a.txt", "reason": "empty file"})
    assert skip_lines(skipped) == [
        "  skipped 40 files: not a supported type (.pdf) (e.g. doc0.pdf, doc1.pdf, doc2.pdf)",
        "  skipped a.txt: empty file",
    ]


@pytest.mark.slow
def test_long_pasted_question_keeps_its_answer_in_view(seeds_engine: object) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tui"))
    from chat_helpers import ask, run_app

    from tui.app import QaApp

    question = "How many people died in the protests? " + " ".join(f"(pasted context line {i} about the protests in Peru)" for i in range(60))

    async def script(pilot):  # type: ignore[no-untyped-def]
        bubble = await ask(pilot, question)
        await pilot.pause()
        conversation = pilot.app.conversation
        return bubble.region, conversation.region

    answer_region, view = run_app(QaApp(engine=seeds_engine), script, size=(80, 24))
    # the answer's first lines are on screen, not scrolled away above or below
    assert view.y <= answer_region.y < view.y + view.height - 1, (answer_region, view)
