"""A command that refuses writes nothing (issue 37, item 1), and a Qdrant index folder is
recognised as one without --store (issue 35).

Each refused command runs between two snapshots of every file and folder under the test's
folders (kind, bytes, mtime): a lock file, a Qdrant `meta.json` or a temp folder made and
removed again still changes a folder's mtime, so it is caught too.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from conftest import run_cli, write_corpus

from qa.config import IndexSettings
from qa.index.folder import build_index

pytest.importorskip("qdrant_client")

QUESTION = "How many animals did the herd in Puno count?"
OTHER = {"tower.txt": "The iron tower in the square was finished in 1889 and stands 300 metres tall.\n"}


def snapshot(*roots: Path) -> dict[str, tuple[str, int, str]]:
    """(kind, mtime_ns, content hash) of every entry under `roots`, the roots included."""
    seen: dict[str, tuple[str, int, str]] = {}
    for root in roots:
        for where in [root, *sorted(root.rglob("*"))]:
            st = os.lstat(where)
            if where.is_symlink():
                seen[str(where)] = ("link", st.st_mtime_ns, os.readlink(where))
            elif where.is_dir():
                seen[str(where)] = ("dir", st.st_mtime_ns, "")
            else:
                seen[str(where)] = ("file", st.st_mtime_ns, hashlib.sha256(where.read_bytes()).hexdigest())
    return seen


@pytest.fixture(scope="module")
def index_of_a(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Corpus a and its FAISS index idx_a (another corpus's index, which a refused Qdrant build must not touch)."""
    root = tmp_path_factory.mktemp("refusals")
    corpus = write_corpus(root / "a", OTHER)
    build_index([corpus], root / "idx_a", IndexSettings())
    return corpus, root / "idx_a"


def _argv(command: str, corpus: Path, target: Path, tmp_path: Path) -> list[str]:
    if command == "index":
        return ["index", str(corpus), "--index-dir", str(target)]
    if command == "batch":
        questions = tmp_path / "q.jsonl"
        if not questions.exists():
            questions.write_text(json.dumps({"id": "1", "question": QUESTION}) + "\n")
        return ["batch", str(questions), "--out", str(tmp_path / "answers.jsonl"), "-c", str(corpus), "--index-dir", str(target)]
    return [command, QUESTION, "-c", str(corpus), "--index-dir", str(target)]


@pytest.mark.slow
@pytest.mark.parametrize("store", ["faiss", "qdrant"])
@pytest.mark.parametrize("command", ["index", "ask", "search", "batch"])
@pytest.mark.parametrize("where", ["user-folder", "inside-corpus", "other-faiss-index"])
@pytest.mark.parametrize("bundled", [False, True], ids=["own-corpus", "bundled-corpus"])
def test_a_refused_command_writes_nothing(
    index_of_a: tuple[Path, Path],
    bundled_corpus: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    store: str,
    command: str,
    where: str,
    bundled: bool,
) -> None:
    """`--index-dir` a user's folder, a folder inside the corpus, or another corpus's FAISS index."""
    corpus = bundled_corpus if bundled else write_corpus(tmp_path / "b")
    if where == "other-faiss-index" and store == "faiss" and (command == "index" or bundled):
        pytest.skip("an index of ours is rebuilt there by design (the replace rule)")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("my thesis\n")
    target = {"user-folder": mine, "inside-corpus": corpus / "sub" / "idx", "other-faiss-index": index_of_a[1]}[where]
    argv = _argv(command, corpus, target, tmp_path) + (["--store", "qdrant"] if store == "qdrant" else [])
    before = snapshot(tmp_path, *index_of_a)
    code, _, err = run_cli(argv, capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert snapshot(tmp_path, *index_of_a) == before, err


@pytest.mark.slow
def test_corpus_a_index_can_be_refreshed_after_a_refused_qdrant_build(index_of_a: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The sequence of the report: a Qdrant build aimed at idx_a is refused, then idx_a is still corpus a's to refresh."""
    corpus_a, idx_a = index_of_a
    b = write_corpus(tmp_path / "b")
    code, _, err = run_cli(["index", str(b), "--store", "qdrant", "--index-dir", str(idx_a)], capsys)
    assert code == 2 and "FAISS" in err, err
    code, out, err = run_cli(["index", str(corpus_a), "--index-dir", str(idx_a)], capsys)
    assert code == 0 and "up to date" in out, err


# --------------------------------------------------------------------------- a Qdrant folder knows its store


@pytest.fixture
def qdrant_folder(small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    folder = tmp_path / "Q"
    code, _, err = run_cli(["index", str(small_corpus), "--store", "qdrant", "--index-dir", str(folder)], capsys)
    assert code == 0, err
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["search", QUESTION, "--index-dir", "{Q}", "--json"],
        ["ask", QUESTION, "--index-dir", "{Q}", "--json"],
        ["ask", QUESTION, "-c", "{C}", "--index-dir", "{Q}", "--json"],
        ["index", "--index-dir", "{Q}", "--json"],
        ["index", "{C}", "--index-dir", "{Q}", "--json"],
    ],
    ids=["search", "ask", "ask-corpus", "index-alone", "index-corpus"],
)
def test_a_qdrant_folder_is_found_without_store(qdrant_folder: Path, small_corpus: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    argv = [a.replace("{Q}", str(qdrant_folder)).replace("{C}", str(small_corpus)) for a in argv]
    before = snapshot(small_corpus)
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    result = json.loads(out)
    if argv[0] == "index":
        assert result["status"] == "up to date" and result["documents"] == 3, result
    elif argv[0] == "search":
        assert result["hits"] and "alpaca" in result["hits"][0]["path"], result
    else:
        assert "340" in json.dumps(result), result
    assert snapshot(small_corpus) == before


@pytest.mark.slow
def test_a_qdrant_folder_moved_elsewhere_is_still_found(qdrant_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The folder records its collection, so a renamed folder (collection named after the old name) still opens."""
    moved = tmp_path / "renamed"
    qdrant_folder.rename(moved)
    code, out, err = run_cli(["search", QUESTION, "--index-dir", str(moved), "--json"], capsys)
    assert code == 0 and json.loads(out)["hits"], err


@pytest.mark.slow
@pytest.mark.parametrize("store", ["faiss", "qdrant"])
@pytest.mark.parametrize("exists", [False, True], ids=["new-folder", "empty-folder"])
def test_a_build_with_nothing_to_index_leaves_no_folder_behind(tmp_path: Path, capsys: pytest.CaptureFixture[str], store: str, exists: bool) -> None:
    """The folder checks pass, the build starts and fails ("no text to index"): what it made goes again
    (the same paths and bytes; the folders' mtimes may move, the build did run)."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "empty.txt").write_text("")
    target = tmp_path / "out" / "idx"
    if exists:
        target.mkdir(parents=True)
    before = {k: (kind, h) for k, (kind, _, h) in snapshot(tmp_path).items()}
    code, _, err = run_cli(["index", str(corpus), "--index-dir", str(target), "--store", store], capsys)
    assert code == 2 and "no text to index" in err, err
    assert {k: (kind, h) for k, (kind, _, h) in snapshot(tmp_path).items()} == before, err
