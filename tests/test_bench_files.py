"""Tests that read the public benchmark files (not in the repository) skip, with the reason,
where those files are absent, so README's test command passes on any machine; where they are
present (a shared folder beside the project, as on the team's machines and in CI) they run."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import ROOT

from qa.eval.squad_split import bench_dir

SQUAD_DEV = ("squad-dev-v1.1.paragraphs.jsonl", "squad-dev-v1.1.questions.jsonl", "squad-dev-v2.0.paragraphs.jsonl", "squad-dev-v2.0.questions.jsonl")

# every test that reads the bench folder (marked `bench`)
BENCH_TESTS = (
    "tests/test_reader.py::test_shipped_reader_quality_is_pinned",
    "tests/test_reader.py::test_shipped_reader_open_retrieval_quality_is_pinned",
    "tests/test_regression.py::test_squad_sample_retrieval_is_pinned",
    "tests/test_clean_content.py::test_public_paragraphs_lose_no_word_sample",
    "tests/test_clean_content.py::test_public_paragraphs_lose_no_word_all",
)


def _pytest(bench: Path, report: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str | None]]:
    """Run BENCH_TESTS with QA_BENCH_DIR=bench: the process, and each test's skip reason (None: not skipped)."""
    env = {**os.environ, "QA_BENCH_DIR": str(bench)}
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--junitxml={report}", *args, *BENCH_TESTS]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False, timeout=600)
    skipped: dict[str, str | None] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        skip = case.find("skipped")
        skipped[case.get("name", "")] = None if skip is None else skip.get("message", "")
    return proc, skipped


def test_tests_needing_the_bench_folder_skip_with_the_reason_without_it(tmp_path: Path) -> None:
    empty = tmp_path / "bench"
    empty.mkdir()  # no SQuAD file in it
    proc, skipped = _pytest(empty, tmp_path / "report.xml")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert sorted(skipped) == sorted(t.split("::")[1] for t in BENCH_TESTS), skipped
    for name, reason in skipped.items():
        assert reason is not None, f"{name} was not skipped: {proc.stdout[-3000:]}"
        assert f"public benchmark files not found in {empty}" in reason and "squad" in reason and "QA_BENCH_DIR" in reason, reason


def test_tests_needing_the_bench_folder_are_set_up_where_it_is_present(tmp_path: Path) -> None:
    """Where the files are (here and in CI) the marked tests are not skipped: only set up here,
    as running them is the slow pinned tests' own job."""
    if not all((bench_dir() / name).is_file() for name in SQUAD_DEV):
        return  # nothing to show on a machine without them (the test above covers that case)
    proc, skipped = _pytest(bench_dir(), tmp_path / "report.xml", "--setup-only")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert skipped and not any(skipped.values()), skipped
