"""Broken indexes: detected on load with what is wrong and the command that fixes it; the
bundled corpus is rebuilt automatically; nothing in an index directory is ever executed.

Other cases live next door: tests/test_index.py::test_broken_manifests_are_refused (the
store-level checks) and ::test_engine_refuses_stale_foreign_index (a changed corpus).
"""

from __future__ import annotations

import ast
import builtins
import errno
import json
import os
import re
import shlex
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, run_cli, write_corpus

from qa.config import IndexSettings
from qa.index.folder import MANIFEST, PASSAGES, VECTORS, build_index, build_lock, load_index

QUESTION = "How many animals did the herd in Puno count?"


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("index_faults")
    corpus = write_corpus(root / "corpus")
    build_index([corpus], root / "idx", IndexSettings())
    return root / "idx"


# --------------------------------------------------------------------------- the damage


def _edit_manifest(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        m = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
        change(m)
        (d / MANIFEST).write_text(json.dumps(m), encoding="utf-8")

    return apply


def _truncate(name: str, keep: float) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        data = (d / name).read_bytes()
        (d / name).write_bytes(data[: int(len(data) * keep)])

    return apply


def _drop_last_passage(d: Path) -> None:
    lines = (d / PASSAGES).read_text(encoding="utf-8").splitlines()
    (d / PASSAGES).write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")


# case -> (damage, fragment of the message)
DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "faiss-truncated": (_truncate(VECTORS, 0.5), "vectors.faiss cannot be read"),
    "faiss-empty": (_truncate(VECTORS, 0.0), "vectors.faiss cannot be read"),
    "manifest-invalid-json": (lambda d: (d / MANIFEST).write_text("{not json", encoding="utf-8"), "not valid JSON"),
    "manifest-not-an-object": (lambda d: (d / MANIFEST).write_text("[1, 2]", encoding="utf-8"), "not valid JSON"),
    "manifest-missing": (lambda d: (d / MANIFEST).unlink(), "not a qa index"),
    "manifest-malformed-entry": (_edit_manifest(lambda m: m.update(counts=[])), "malformed 'counts'"),
    "schema-version": (_edit_manifest(lambda m: m.update(schema_version=99)), "schema version 99"),
    "passages-vs-vectors": (_drop_last_passage, "inconsistent"),
    "passages-corrupt": (_truncate(PASSAGES, 0.5), "passages.jsonl is corrupt"),
    "other-model": (_edit_manifest(lambda m: m.update(model="some-other-model")), "model 'some-other-model'"),
    "other-dimension": (_edit_manifest(lambda m: m.update(dimension=768)), "vectors of size 384"),
    "bm25-missing": (lambda d: shutil.rmtree(d / "bm25"), "bm25 cannot be read"),
}


@pytest.mark.slow
def test_missing_index_says_how_to_build_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["ask", QUESTION, "--index-dir", str(tmp_path / "nope")], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "no index at" in err and "qa index" in err


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_index_is_refused_with_the_fix(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    damage, fragment = DAMAGE[case]
    broken = tmp_path / "idx"
    shutil.copytree(good, broken)
    damage(broken)
    for command in (["ask", QUESTION], ["search", QUESTION], ["ask", QUESTION, "--json"]):
        code, out, err = run_cli([*command, "--index-dir", str(broken)], capsys)
        assert code == 2 and out == "", (case, out)
        assert err.count("\n") == 1 and "Traceback" not in err
        assert "faiss::" not in err and "/project/" not in err, err  # a reason, not FAISS's C++ internals
        assert fragment in err, err
        assert re.search(r"qa index \S+ --index-dir " + re.escape(str(broken)), err), err


def _corpus_of(index_dir: Path) -> Path:
    return Path(json.loads((index_dir / MANIFEST).read_text())["corpus"]["paths"][0])


# damage a current manifest says nothing about: only loading the index finds it
UNDER_A_CURRENT_MANIFEST = {"faiss-truncated", "faiss-empty", "passages-vs-vectors", "passages-corrupt", "other-dimension", "bm25-missing"}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_the_fix_ask_gives_repairs_the_index(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    """The command a load error recommends really repairs: `qa index` rebuilds a damaged index of
    ours, saying why in one line, instead of calling it up to date (which left ask failing)."""
    broken = tmp_path / "idx"
    shutil.copytree(good, broken)
    DAMAGE[case][0](broken)
    code, _, err = run_cli(["ask", QUESTION, "--index-dir", str(broken)], capsys)
    fix = re.search(r"with: (qa index .*)$", err.strip())
    assert code == 2 and fix, err
    argv = [str(_corpus_of(good)) if a == "PATH" else a for a in shlex.split(fix.group(1))]
    code, out, err = run_cli(argv[1:], capsys)
    assert code == 0 and "up to date" not in out and "Indexed" in out, (out, err)
    if case in UNDER_A_CURRENT_MANIFEST:
        assert err.count("\n") == 1 and f"index {broken} is damaged (" in err and err.rstrip().endswith(": rebuilding"), err
    code, out, err = run_cli(["ask", QUESTION, "--index-dir", str(broken), "--json"], capsys)
    assert code == 0 and json.loads(out)["answer"] == "340", err


@pytest.mark.slow
def test_damaged_index_holding_user_files_is_refused_not_rebuilt(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Rebuilding replaces the folder: with a file of the user's in it, refuse in one line (no "rebuilding" first)."""
    broken = tmp_path / "idx"
    shutil.copytree(good, broken)
    DAMAGE["faiss-truncated"][0](broken)
    (broken / "notes.txt").write_text("mine", encoding="utf-8")
    code, out, err = run_cli(["index", str(_corpus_of(good)), "--index-dir", str(broken)], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1, (out, err)
    assert "not a qa index (notes.txt)" in err and "rebuilding" not in err
    assert (broken / "notes.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.slow
def test_refused_build_leaves_no_lock_file(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Neither a refused target nor a corpus with no text leaves a .<name>.lock (or a folder made for it)."""
    user = tmp_path / "userdir"
    user.mkdir()
    (user / "thesis.txt").write_text("mine", encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli(["index", str(_corpus_of(good)), "--index-dir", str(user)], capsys)
    assert code == 2 and "not a qa index (thesis.txt)" in err, err
    code, _, err = run_cli(["index", str(empty), "--index-dir", str(tmp_path / "new" / "deep" / "idx")], capsys)
    assert code == 2 and "no text to index" in err, err
    assert sorted(os.listdir(tmp_path)) == ["empty", "userdir"] and os.listdir(user) == ["thesis.txt"]


def test_failed_build_drops_its_lock_file_and_builders_still_exclude(tmp_path: Path) -> None:
    """A failed build unlinks the lock file it created, while a second builder waits on that file;
    the second must then lock the file now at the path, so a third still waits for it.

    The third starts only once the second is inside: started earlier, it may find no lock file
    (the first removed it, the second has not re-created it yet), make one and go in first —
    correct exclusion, but not the case under test (which then timed out one run in five).
    """
    target = tmp_path / "idx"
    lock_path = tmp_path / ".idx.lock"
    inside: list[str] = []
    most = [0]
    a_in, b_waits, b_in, c_waits = threading.Event(), threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def build(name: str, waiting: threading.Event | None, body: Callable[[], None]) -> None:
        try:
            with build_lock(target, notify=lambda _msg: waiting.set() if waiting else None):
                inside.append(name)
                most[0] = max(most[0], len(inside))
                try:
                    body()
                finally:
                    inside.remove(name)
        except RuntimeError:
            pass  # A's refusal
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    def refuse() -> None:
        a_in.set()
        assert b_waits.wait(30)
        raise RuntimeError("refused")

    def hold() -> None:
        b_in.set()
        c_waits.wait(30)  # C is blocked on B's lock file (or, were exclusion broken, already went in)

    a = threading.Thread(target=build, args=("A", None, refuse))
    a.start()
    assert a_in.wait(30)
    b = threading.Thread(target=build, args=("B", b_waits, hold))
    b.start()
    a.join(30)
    assert b_in.wait(30) or errors, "B never got the lock A dropped"
    c = threading.Thread(target=build, args=("C", c_waits, lambda: None))
    c.start()
    for t in (b, c):
        t.join(30)
    assert not errors, errors
    assert most[0] == 1 and c_waits.is_set(), "C went in while B held the lock"
    fresh = tmp_path / "other"
    with pytest.raises(RuntimeError), build_lock(fresh):
        raise RuntimeError("refused")
    assert not (tmp_path / ".other.lock").exists()
    with pytest.raises(RuntimeError), build_lock(target):
        raise RuntimeError("refused")
    assert lock_path.exists(), "a lock file this build did not create is left alone"


@pytest.mark.slow
def test_mount_point_index_dir_is_refused_before_building(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A mount point cannot be renamed away: refuse it up front, naming that cause and the way out."""
    place = tmp_path / "mnt"
    place.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == place or real(p))
    code, out, err = run_cli(["index", str(_corpus_of(good)), "--index-dir", str(place)], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert f"cannot replace {place} (it is a mount point or in use); choose a folder inside it with --index-dir" in err
    assert os.listdir(tmp_path) == ["mnt"] and os.listdir(place) == []


@pytest.mark.slow
def test_folder_that_cannot_be_renamed_names_the_cause(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """EBUSY on the swap (a bind mount ismount misses) is "cannot replace", not "choose a writable folder"."""
    index = tmp_path / "idx"
    shutil.copytree(good, index)
    real_rename = Path.rename

    def busy(self: Path, target: Path) -> Path:
        if self == index:
            raise OSError(errno.EBUSY, "Device or resource busy", str(self))
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", busy)
    code, out, err = run_cli(["index", str(_corpus_of(good)), "--index-dir", str(index), "--force", "-q"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert f"cannot replace {index} (it is a mount point or in use)" in err and "writable" not in err
    assert load_index(index).passages, "the index is left as it was"
    assert not list(tmp_path.glob(".idx.tmp-*"))


@pytest.mark.slow
def test_read_only_index_still_answers(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ro = tmp_path / "idx"
    shutil.copytree(good, ro)
    paths = [ro, *ro.rglob("*")]
    for p in paths:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        code, out, err = run_cli(["ask", QUESTION, "--index-dir", str(ro), "--json"], capsys)
        assert code == 0, err
        assert json.loads(out)["answer"] == "340"
    finally:
        for p in paths:
            p.chmod(0o755 if p.is_dir() else 0o644)


def _deny_writes(monkeypatch: pytest.MonkeyPatch, under: Path, where: str) -> None:
    """Make writing under `under` fail with EACCES (root ignores chmod, so simulate it)."""
    if where == "lock":
        real_open = builtins.open

        def fake_open(file, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
            if str(file).startswith(str(under)) and any(c in mode for c in "wax+"):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, mode, *args, **kwargs)

        monkeypatch.setattr("qa.index.folder.open", fake_open, raising=False)
    else:
        real_mkdir = Path.mkdir

        def fake_mkdir(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
            if str(self).startswith(str(under)) and ".tmp-" in self.name:
                raise PermissionError(13, "Permission denied", str(self))
            return real_mkdir(self, *args, **kwargs)

        monkeypatch.setattr(Path, "mkdir", fake_mkdir)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["lock", "tmpdir"])
def test_unwritable_index_place_is_one_line(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    corpus = Path(json.loads((good / MANIFEST).read_text())["corpus"]["paths"][0])
    place = tmp_path / "ro"
    place.mkdir()
    _deny_writes(monkeypatch, place, where)
    code, out, err = run_cli(["index", str(corpus), "--index-dir", str(place / "idx")], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "cannot write the index" in err and "Permission denied" in err and "--index-dir" in err
    assert not list(place.glob(".idx.tmp-*"))


@pytest.mark.slow
def test_really_read_only_folder(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 555 does not stop root writing (simulated above)")
    corpus = Path(json.loads((good / MANIFEST).read_text())["corpus"]["paths"][0])
    place = tmp_path / "ro"
    place.mkdir()
    place.chmod(0o555)
    try:
        code, _, err = run_cli(["index", str(corpus), "--index-dir", str(place / "idx")], capsys)
        assert code == 2 and "cannot write the index" in err and err.count("\n") == 1
    finally:
        place.chmod(0o755)


# --------------------------------------------------------------------------- the bundled corpus


@pytest.fixture
def bundled(bundled_corpus: Path) -> Path:
    """The index folder of a stand-in for seeds/ (the real index/seeds is never touched)."""
    return bundled_corpus.parent / "index" / "seeds"


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_bundled_corpus_index_is_rebuilt(bundled: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    code, out, err = run_cli(["ask", QUESTION, "--json"], capsys)
    assert code == 0 and "first run" in err, err  # built on first use
    assert (bundled / MANIFEST).exists()
    DAMAGE[case][0](bundled)
    code, out, err = run_cli(["ask", QUESTION, "--json"], capsys)
    assert code == 0, err
    assert "rebuilding the index" in err and err.count("\n") == 1
    assert json.loads(out)["answer"] == "340"
    assert load_index(bundled).manifest["model"] == IndexSettings().model
    assert not list(bundled.parent.glob(".seeds.tmp-*"))


@pytest.mark.slow
def test_bundled_corpus_rebuild_in_unwritable_place_is_one_line(bundled: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli(["ask", QUESTION], capsys)[0] == 0
    DAMAGE["faiss-truncated"][0](bundled)
    _deny_writes(monkeypatch, bundled.parent, "lock")
    code, out, err = run_cli(["ask", QUESTION], capsys)
    assert code == 2 and "cannot write the index" in err.splitlines()[-1]
    assert "Traceback" not in err


# --------------------------------------------------------------------------- nothing executes


def _sources() -> list[Path]:
    return sorted(p for d in ("qa", "tui") if (ROOT / d).exists() for p in (ROOT / d).rglob("*.py"))


UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "marshal", "shelve"}
UNSAFE_CALLS = {"eval", "exec", "compile", "__import__"}


def unsafe_uses(source: str) -> list[str]:
    """Where `source` could run code read from a file: a grep by syntax (docstrings don't count)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            found.append(f"from {node.module} import")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            if isinstance(func, ast.Name) and name in UNSAFE_CALLS:
                found.append(f"{name}() at line {node.lineno}")
            if owner in UNSAFE_MODULES:
                found.append(f"{owner}.{name}() at line {node.lineno}")
            kw = {k.arg: k.value for k in node.keywords}
            pickle_ok = isinstance(kw.get("allow_pickle"), ast.Constant) and kw["allow_pickle"].value is False
            if "allow_pickle" in kw and not pickle_ok:
                found.append(f"allow_pickle not False at line {node.lineno}")
            if owner in ("np", "numpy") and name == "load" and not pickle_ok:
                found.append(f"np.load without allow_pickle=False at line {node.lineno}")
            if owner == "torch" and name == "load":
                weights_only = kw.get("weights_only")
                if not (isinstance(weights_only, ast.Constant) and weights_only.value is True):
                    found.append(f"torch.load without weights_only=True at line {node.lineno}")
    return found


def test_no_code_path_can_execute_index_contents() -> None:
    """No pickle, eval or exec anywhere in the package; every np.load refuses pickles."""
    sources = _sources()
    assert len(sources) > 10, "the package sources were found"
    offenders = {str(p.relative_to(ROOT)): unsafe_uses(p.read_text(encoding="utf-8")) for p in sources}
    assert not {k: v for k, v in offenders.items() if v}
    # and the plain grep the issue asks for, on the code outside docstrings and comments
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    assert "allow_pickle=True" not in text and "pickle.load" not in text


def test_the_unsafe_grep_fires_on_the_real_thing() -> None:
    """The check above is only worth something if it catches what it looks for."""
    for bad in (
        "import pickle",
        "from joblib import load",
        "np.load(f, allow_pickle=True)",
        "np.load(f)",
        "x.load(f, allow_pickle=flag)",
        "eval(text)",
        "exec(code)",
        "pickle.loads(b)",
        "torch.load(p)",
    ):
        assert unsafe_uses(bad), bad
    for ok in ('"""no pickle here"""', "model.eval()", "run_retrieval(engine)", "bm25s.BM25.load(p, allow_pickle=False)", "np.load(f, allow_pickle=False)", "re.compile('x')"):
        assert not unsafe_uses(ok), ok


class _Payload:
    """Unpickling this creates a file: proof that a pickle from the index dir was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (str(self.marker), "w"))


@pytest.mark.slow
def test_pickled_array_in_index_is_refused_not_run(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    evil = tmp_path / "idx"
    shutil.copytree(good, evil)
    marker = tmp_path / "executed"
    arrays = sorted((evil / "bm25").glob("*.npy"))
    assert arrays
    for npy in arrays:
        np.save(npy, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    code, out, err = run_cli(["ask", QUESTION, "--index-dir", str(evil)], capsys)
    assert code == 2 and "bm25 cannot be read" in err and err.count("\n") == 1
    assert not marker.exists(), "a pickle from the index directory was executed"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc: a folder nobody (not even root) can write")
def test_index_into_a_folder_nobody_can_write(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The unsimulated case, even as root: /proc accepts no new files or folders."""
    corpus = Path(json.loads((good / MANIFEST).read_text())["corpus"]["paths"][0])
    code, out, err = run_cli(["index", str(corpus), "--index-dir", "/proc/qa-index"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("qa: error: cannot write the index in /proc/qa-index") and "--index-dir" in err
