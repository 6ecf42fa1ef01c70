"""Symlinks inside a corpus that lead out of it: not followed unless asked (--follow-links).

A link is followed while it stays inside the corpus (ripgrep's rule for what it searches):
`c/key.txt -> ../private/id_rsa.txt` used to be indexed and quoted by `qa search passphrase`,
and a link to a folder outside was walked. Now each is listed as skipped with the reason; a
link to a file or folder inside the corpus is still read; `--follow-links` opts in and is
recorded in the manifest, so changing it (or a file outside changing) makes the index stale.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_cli_io, write_corpus

from qa.documents.ingest import load_corpus

SECRET = "Proc-Type: 4,ENCRYPTED passphrase hunter2 guards the private key of the server."
OUTSIDE_NOTE = "The private ledger says the treasurer moved 9,000 soles to the Lima account."
OUTSIDE_REASON = "link leads outside the corpus"


def make_linked_corpus(root: Path) -> Path:
    """c/ with links leading out (a file, a folder, a link to a link) and links staying in."""
    private = root / "private"
    private.mkdir()
    (private / "id_rsa.txt").write_text(f"Private key\n\n{SECRET}\n", encoding="utf-8")
    (private / "ledger").mkdir()
    (private / "ledger" / "book.txt").write_text(f"Ledger\n\n{OUTSIDE_NOTE}\n", encoding="utf-8")
    corpus = write_corpus(root / "c")
    os.symlink("../private/id_rsa.txt", corpus / "key.txt")  # relative, leading out
    os.symlink(private / "ledger", corpus / "books")  # absolute, a folder outside
    os.symlink("key.txt", corpus / "again.txt")  # a link to a link that leads out
    os.symlink("../../c/../private/id_rsa.txt", corpus / "sub" / "twisty.txt")  # out by way of the corpus
    (corpus / ".store").mkdir()
    (corpus / ".store" / "deep.txt").write_text("Deep note\n\nThe deep archive keeps the 1952 survey of Lake Titicaca.\n", encoding="utf-8")
    os.symlink(".store/deep.txt", corpus / "deep.txt")  # a link that stays inside: read
    os.symlink(".store", corpus / "shelf")  # a folder link that stays inside: walked (as shelf/)
    return corpus


def test_links_leading_out_are_skipped_links_inside_are_read(tmp_path: Path) -> None:
    corpus = make_linked_corpus(tmp_path)
    got = load_corpus([corpus])
    skipped = {s.path: s.reason for s in got.skipped}
    for name in ("key.txt", "books", "again.txt", "sub/twisty.txt"):
        assert name in skipped and OUTSIDE_REASON in skipped[name], skipped
    texts = " ".join(d.text for d in got.documents)
    assert "hunter2" not in texts and "treasurer" not in texts
    assert "deep archive" in texts  # the link inside is followed
    assert "deep.txt" in got.files


def test_follow_links_reads_what_the_links_lead_to(tmp_path: Path) -> None:
    corpus = make_linked_corpus(tmp_path)
    got = load_corpus([corpus], follow_links=True)
    texts = " ".join(d.text for d in got.documents)
    assert "hunter2" in texts and "treasurer" in texts
    assert not any(OUTSIDE_REASON in s.reason for s in got.skipped)


def test_a_corpus_named_through_a_link_is_inside_itself(tmp_path: Path) -> None:
    corpus = make_linked_corpus(tmp_path)
    os.symlink(corpus, tmp_path / "alias")
    got = load_corpus([tmp_path / "alias"])
    assert "deep.txt" in got.files and "alpaca.txt" in got.files
    assert "hunter2" not in " ".join(d.text for d in got.documents)


@pytest.mark.slow
def test_search_never_quotes_a_file_outside_and_follow_links_is_recorded(tmp_path: Path) -> None:
    corpus = make_linked_corpus(tmp_path)
    index = tmp_path / "idx"
    code, out, err = run_cli_io(["index", str(corpus), "--index-dir", str(index)])
    assert code == 0, err
    assert f"  skipped key.txt: {OUTSIDE_REASON}" in out
    assert "  skipped books: " in out
    code, out, err = run_cli_io(["search", "passphrase private key", "--index-dir", str(index), "-c", str(corpus), "--json"])
    assert code == 0, err
    assert "hunter2" not in out and "treasurer" not in out

    code, out, err = run_cli_io(["index", str(corpus), "--index-dir", str(index), "--follow-links"])
    assert code == 0, err
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["follow_links"] is True
    code, out, err = run_cli_io(["search", "passphrase private key", "--index-dir", str(index), "-c", str(corpus), "--json"])
    assert code == 0, err  # the index is used as built: no flag means "as the index records"
    assert "hunter2" in out
    code, out, err = run_cli_io(["index", str(corpus), "--index-dir", str(index)])
    assert code == 0 and "up to date" in out, out + err
    # a file outside, read through a link, is part of the corpus: its change makes the index stale
    (tmp_path / "private" / "ledger" / "book.txt").write_text("Ledger\n\nThe ledger was closed in June.\n", encoding="utf-8")
    code, out, err = run_cli_io(["ask", "Who moved money?", "--index-dir", str(index), "-c", str(corpus)])
    assert code == 2 and "out of date" in err, err
    code, out, err = run_cli_io(["index", str(corpus), "--index-dir", str(index), "--no-follow-links"])
    assert code == 0 and "Indexed" in out, out + err
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["follow_links"] is False
    assert not any("hunter2" in line for line in (index / "passages.jsonl").read_text(encoding="utf-8").split("\n"))


@pytest.mark.parametrize("command", ["index", "ask", "search", "batch", "eval", "chat"])
def test_every_command_that_builds_an_index_takes_follow_links(command: str) -> None:
    code, out, err = run_cli_io([command, "--help"])
    assert code == 0, err
    assert "--follow-links" in out and "--no-follow-links" in out
