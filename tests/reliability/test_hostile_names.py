"""Control characters in file and folder names never reach the terminal raw.

A file named `evil\\e[31mname\\e]0;pwned\\a.txt` (ESC, an OSC that sets the terminal title,
BEL) recoloured `qa search`/`qa ask` output and set the title; the chat carried the raw bytes
into its attribution, sources list and exports. Every place a name or path is shown goes
through `qa.safe_text.shown_path` (control characters as `\\x1b`), so the tests look at
everything a command prints — stdout and stderr — for any raw C0/C1 character other than the
newline and tab the layout uses.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from conftest import run_cli_io

from qa.documents.ingest import load_corpus, real_name
from qa.safe_text import escape_controls, shown_path

RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 (but \t \n), DEL, C1

# name -> a sentence found only in that file (so a question lands on it)
HOSTILE = {
    "evil\x1b[31mname\x1b]0;pwned\x07.txt": "The condor sanctuary at Chonta shelters 47 birds in winter.",
    "c1\x9b31mcsi\x9d0;t\x9c.md": "The salt pans of Maras hold 4,500 pools fed by one spring.",
    "new\nline\rcr\x7fdel.txt": "The bridge at Q'eswachaka is rebuilt of grass every June.",
    "sep\u2028line.txt": "The lake of Huacachina lies in a desert oasis near Ica.",
    "dir\x1b[2Jclear/inner.txt": "The mine at Cerro de Pasco lies at 4,330 metres above sea level.",
}
SKIPPED = "skip\x1b[5mblink.rst"  # listed as skipped: its name is shown too


def make_corpus(root: Path) -> Path:
    corpus = root / "c"
    for name, sentence in HOSTILE.items():
        path = corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Notes\n\n{sentence}\n", encoding="utf-8")
    (corpus / SKIPPED).write_text("Not read.\n", encoding="utf-8")
    os.symlink("/etc/hostname", corpus / "out\x1b[1mside.txt")  # skipped: link leads outside
    return corpus


def assert_no_raw_control(*texts: str) -> None:
    for text in texts:
        found = RAW_CONTROL.findall(text)
        assert not found, (found, text[:2000])


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("evil\x1b[31mname\x1b]0;pwned\x07.txt", "evil\\x1b[31mname\\x1b]0;pwned\\x07.txt"),
        ("c1\x9bcsi\x85nel\x7f", "c1\\u009bcsi\\u0085nel\\x7f"),
        ("a\nb\tc\rd", "a\\x0ab\\x09c\\x0dd"),
        ("sep\u2028par\u2029", "sep\\u2028par\\u2029"),
        ("caf\udce9.txt", "caf\\xe9.txt"),  # an undecodable byte, as Python hands it over
        ("café/ñandú 🦙.txt", "café/ñandú 🦙.txt"),  # printable text is left alone
    ],
)
def test_shown_path_escapes_controls_and_only_them(raw: str, shown: str) -> None:
    assert shown_path(raw) == shown
    assert shown_path(Path(raw)) == shown or "/" in raw
    assert not RAW_CONTROL.search(shown_path(raw))
    assert real_name(shown_path(raw)) == raw  # the stored name still reopens the file


def test_messages_keep_their_line_breaks_only() -> None:
    assert escape_controls("a\x1b[31m\nb\tc\x07", keep="\n\t") == "a\\x1b[31m\nb\tc\\x07"


def test_stored_names_and_skip_reasons_are_escaped(tmp_path: Path) -> None:
    got = load_corpus([make_corpus(tmp_path)])
    assert_no_raw_control(*got.files, *(s.path + s.reason for s in got.skipped), *(d.path + d.title for d in got.documents))
    assert "evil\\x1b[31mname\\x1b]0;pwned\\x07.txt" in got.files


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, str]:
    root = tmp_path_factory.mktemp("hostile_names")
    corpus = make_corpus(root)
    index = root / "idx"
    code, out, err = run_cli_io(["index", str(corpus), "--index-dir", str(index)])
    assert code == 0, err
    return corpus, index, out, err


@pytest.mark.slow
def test_index_summary_shows_names_escaped(indexed: tuple[Path, Path, str, str]) -> None:
    corpus, index, out, err = indexed
    assert_no_raw_control(out, err)
    assert "skipped skip\\x1b[5mblink.rst: not a supported type (.rst)" in out
    assert "skipped out\\x1b[1mside.txt: link leads outside the corpus" in out
    code, out, err = run_cli_io(["index", str(corpus), "--index-dir", str(index), "--json", "--force"])
    assert code == 0, err
    assert_no_raw_control(out, err)
    assert any("skip\\x1b[5mblink.rst" == s["path"] for s in json.loads(out)["skipped_files"])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(HOSTILE))
@pytest.mark.parametrize("command", ["search", "ask"])
@pytest.mark.parametrize("as_json", [False, True])
def test_search_and_ask_show_names_escaped(indexed: tuple[Path, Path, str, str], name: str, command: str, as_json: bool) -> None:
    corpus, index, _, _ = indexed
    question = HOSTILE[name].rsplit(" ", 3)[0] + "?"
    code, out, err = run_cli_io([command, question, "-c", str(corpus), "--index-dir", str(index), *(["--json"] if as_json else [])])
    assert code == 0, err
    assert_no_raw_control(out, err)
    shown = "\n".join(strings(json.loads(out))) if as_json else out  # --json: valid, with the same names
    assert shown_path(name) in shown  # the file is named, escaped


def strings(obj: object) -> list[str]:
    """Every string value inside a JSON document."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in strings(v)]
    return []


@pytest.mark.slow
def test_error_messages_show_paths_escaped(tmp_path: Path) -> None:
    missing = tmp_path / "gone\x1b]0;pwned\x07"
    for argv in (["index", str(missing), "--index-dir", str(tmp_path / "i")], ["ask", "What?", "-c", str(missing)]):
        code, out, err = run_cli_io(argv)
        assert code == 2
        assert_no_raw_control(out, err)
        assert "gone\\x1b]0;pwned\\x07" in err


# ---------------------------------------------------------------- the chat (Textual Pilot)


@pytest.fixture(scope="module")
def chat_helpers():  # type: ignore[no-untyped-def]
    """tests/tui/chat_helpers.py: drives the real app headless (as the chat's own tests do)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tui"))
    import chat_helpers

    return chat_helpers


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in HOSTILE if "evil" in n or "c1" in n])
def test_chat_attribution_sources_and_exports_show_names_escaped(
    indexed: tuple[Path, Path, str, str], chat_helpers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str  # type: ignore[no-untyped-def]
) -> None:
    from qa.engine import Engine
    from tui.app import QaApp

    corpus, index, _, _ = indexed
    engine = Engine.open([corpus], index)
    monkeypatch.chdir(tmp_path)
    question = HOSTILE[name].rsplit(" ", 3)[0] + "?"

    async def script(pilot):  # type: ignore[no-untyped-def]
        bubble = await chat_helpers.ask(pilot, question)
        await pilot.press("f4", "f5")
        await pilot.pause()
        before = chat_helpers.screen_text(pilot.app), pilot.app.export_screenshot()
        await pilot.resize_terminal(70, 30)  # the layout is measured again: a raw ESC garbled it
        await pilot.pause(0.2)
        after = chat_helpers.screen_text(pilot.app), pilot.app.export_screenshot()
        return bubble, before, after

    bubble, before, after = chat_helpers.run_app(QaApp(engine=engine), script, size=(160, 40))
    assert bubble.answer is not None and bubble.answer.sources
    assert_no_raw_control(*before, *after)
    assert shown_path(name) in before[0]  # the attribution / sources list name the file, escaped
    md = next(tmp_path.glob("qa-chat-*.md")).read_text(encoding="utf-8")
    jsonl = next(tmp_path.glob("qa-chat-*.jsonl")).read_text(encoding="utf-8")
    assert_no_raw_control(md, jsonl)
    assert shown_path(name) in md
    rows = [json.loads(line) for line in jsonl.split("\n") if line]
    assert shown_path(name) in {s["file"] for s in rows[0]["sources"]}


def test_a_raw_name_from_an_older_index_is_shown_escaped() -> None:
    """Indexes built before names were stored escaped hold them raw: the location escapes them."""
    from qa.records import place

    shown = place("evil\x1b]0;pwned\x07.pdf", (3, 5), (2, 2))
    assert shown == "evil\\x1b]0;pwned\\x07.pdf p. 2:3-5"
