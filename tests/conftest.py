"""Shared fixtures. The real bundled model and real FAISS are used throughout; the model is
loaded once per test session (qa.index.encoders caches encoders per process)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# indexes of temp folders and benchmarks go here, not into the user's ~/.cache/qa (set before qa is imported)
os.environ.setdefault("QA_HOME", str(ROOT / "index" / "test-home"))


# Two staff notes for conversation tests (qa ask --after, qa batch conversations): who leads what,
# and when each joined — a follow-up's "she"/"he" picks one of two people
NORLAND_STAFF = {
    "staff.txt": (
        "Research at Norland Foods\n\n"
        "Priya Raman is the head of research at Norland Foods. "
        "Priya Raman joined the company in 2015, after ten years at a university laboratory in Bergen.\n"
    ),
    "sales.txt": (
        "Sales at Norland Foods\n\n"
        "Jonas Berg is the head of sales at Norland Foods. "
        "Jonas Berg joined the company in 2019, after working for a shipping firm in Oslo.\n"
    ),
}


# The public SQuAD dev files (qa.eval.squad_split) the pinned quality tests read.
SQUAD_DEV_FILES = (
    "squad-dev-v1.1.paragraphs.jsonl",
    "squad-dev-v1.1.questions.jsonl",
    "squad-dev-v2.0.paragraphs.jsonl",
    "squad-dev-v2.0.questions.jsonl",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "bench(*files): needs these public benchmark files (glob patterns; default the SQuAD dev files) in the "
        "bench folder ($QA_BENCH_DIR, else ../shared/bench); skipped, with the reason, where they are absent",
    )


def bench_folder() -> Path:
    """The folder `qa eval --squad` reads: $QA_BENCH_DIR, else ../shared/bench beside the project."""
    from qa.eval.squad_split import bench_dir

    return bench_dir()


def missing_bench_files(patterns: tuple[str, ...]) -> list[str]:
    root = bench_folder()
    return [p for p in patterns if not any(root.glob(p))]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `bench` skip with the reason where the public benchmark files are absent.

    They are not in the repository (the SQuAD files live in a shared folder beside it, as here
    and in CI), so README's test command, run anywhere else, skips them instead of failing with
    "SQuAD dev files not found".
    """
    for mark in item.iter_markers("bench"):
        missing = missing_bench_files(tuple(mark.args) or SQUAD_DEV_FILES)
        if missing:
            pytest.skip(f"public benchmark files not found in {bench_folder()}: {', '.join(missing)} (set QA_BENCH_DIR to the folder holding them)")


@pytest.fixture(scope="session")
def seeds_engine():
    """The engine on the bundled corpus, index built (or reused) in index/seeds."""
    from qa.engine import Engine

    return Engine.open()


SMALL_DOCS = {
    "alpaca.txt": (
        "Alpacas of the Andes\n\nBy Ana Ruiz\n\n"
        "Alpacas are domesticated camelids that live in the high Andes of Peru. "
        "A herd in Puno counted 340 animals in 2021.\n\n"
        "Their fleece is sheared once a year, usually in November, and sold in Arequipa.\n"
    ),
    "volcano.md": (
        "# The Misti volcano\n\n"
        "Misti is a stratovolcano near the city of Arequipa. Its summit stands 5,822 metres "
        "above sea level. The last eruption happened in 1985, according to the observatory.\n"
    ),
    "sub/rail.txt": (
        "The Andean railway\n\n"
        "The railway from Cusco to Puno crosses the La Raya pass at 4,313 metres. "
        "The journey takes about ten hours and the train runs three times a week.\n"
    ),
}


def write_corpus(root: Path, docs: dict[str, str] = SMALL_DOCS) -> Path:
    for name, text in docs.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def bundled_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for seeds/ (rebuilt automatically by ask/chat/eval) with its own index/ root:
    the real seeds/ and index/seeds are never touched."""
    import qa.config
    import qa.engine

    corpus = write_corpus(tmp_path / "seeds")
    monkeypatch.setattr(qa.config, "DEFAULT_CORPUS", corpus)
    monkeypatch.setattr(qa.engine, "DEFAULT_CORPUS", corpus)
    monkeypatch.setattr(qa.config, "index_root", lambda: tmp_path / "index")
    monkeypatch.setattr(qa.config, "seeds_index", lambda: tmp_path / "index" / "seeds")
    return corpus


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus")


def words_in_lines(text: str, raw: str, line_start: int, line_end: int) -> bool:
    """Are the words of `text` found, in order, within lines line_start..line_end of `raw`?

    Raw lines get the same normalisation ingest applies (no-break spaces, invisibles); words
    may be separated by dropped text (a removed caption) but never reordered or invented.
    """
    from qa.documents.clean import normalize_line, split_lines

    lines = split_lines(raw)[line_start - 1 : line_end]
    haystack = " ".join(normalize_line(line) for line in lines).split()
    it = iter(haystack)
    return all(any(w == h for h in it) for w in text.split())


def run_cli_io(argv: list[str]) -> tuple[int, str, str]:
    """The real CLI in process, its output captured without capsys (for module-scoped fixtures)."""
    import contextlib
    import io

    from qa.cli import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(argv)
    return code, out.getvalue(), err.getvalue()


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the real CLI in process: (exit code, stdout, stderr)."""
    from qa.cli import run

    code = run(argv)
    out, err = capsys.readouterr()
    return code, out, err


class WatchRun:
    """A `qa index --watch` subprocess, started and waited for until it says it is watching:
    its stdout lines arrive on `lines`, its stderr lines gather in `err_lines`."""

    def __init__(self, corpus: Path, target: Path, *extra: str, timeout: float = 60.0) -> None:
        import queue
        import signal
        import subprocess
        import sys
        import threading
        import time

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qa.cli", "index", str(corpus), "--index-dir", str(target), "--watch", "--quiet", *extra],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # SIGINT back to its default: a runner started in the background passes it ignored
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.lines: queue.Queue[str] = queue.Queue()
        self.err_lines: list[str] = []
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.proc.stdout], daemon=True).start()  # type: ignore[union-attr]
        self._err = threading.Thread(target=lambda: self.err_lines.extend(self.proc.stderr), daemon=True)  # type: ignore[arg-type]
        self._err.start()
        while not any("watching" in line for line in self.err_lines):
            if self.proc.poll() is not None or time.monotonic() > self.deadline:
                self.close()
                raise AssertionError("".join(self.err_lines))
            time.sleep(0.05)
        time.sleep(0.5)

    def stop(self) -> str:
        """Ctrl+C, wait for it to end; its stderr."""
        import signal

        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=self.timeout)
        return self.close()

    def close(self) -> str:
        if self.proc.poll() is None:
            self.proc.kill()
        self._err.join(timeout=5)
        return "".join(self.err_lines)
