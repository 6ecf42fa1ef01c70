"""`qa chat` on the command line: bad input is one line and exit 2; --help stays light."""

from __future__ import annotations

import subprocess
import sys

from qa.cli import run


def test_missing_path_is_one_line_and_exit_2(capsys, tmp_path):
    assert run(["chat", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_unknown_retriever_is_exit_2(capsys):
    assert run(["chat", "--retriever", "magic"]) == 2
    assert "magic" in capsys.readouterr().err


def test_help_does_not_import_textual_or_torch():
    code = (
        "import sys; from qa.cli import run; run(['--help']); run(['chat', '--help']);"
        "print(sorted(m for m in ('textual', 'torch', 'tui', 'faiss') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "Chat with the documents" in out
    assert out.strip().splitlines()[-1] == "[]"


def test_index_dir_alone_must_hold_an_index(capsys, tmp_path):
    assert run(["chat", "--index-dir", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path / "empty") in err


def test_corpus_option_is_the_same_as_the_path(monkeypatch, tmp_path):
    """`qa chat -c DIR`, as the other commands take a corpus, opens the chat on DIR."""
    import tui.app

    opened = []
    monkeypatch.setattr(tui.app.QaApp, "run", lambda self: opened.append(self.corpus_label))
    (tmp_path / "a.txt").write_text("Hello.\n")
    assert run(["chat", "-c", str(tmp_path)]) == 0 and run(["chat", str(tmp_path)]) == 0
    assert opened[0] == opened[1] == str(tmp_path)
    assert run(["chat", "-c", str(tmp_path / "nowhere")]) == 2
