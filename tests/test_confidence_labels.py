"""The confidence words mean what was measured: "high" only from the confidence at which
validation answers were right at least 80 % of the time (tools/confidence_labels.py, cut-offs
in the reader's calibration.json), and "not found" carries no mark at all."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from qa.answers.reader import CALIBRATION_FILE, MODEL_FILE, label_cutoffs
from qa.present import confidence_label, confidence_mark, transcript_markdown
from qa.records import Answer, Passage, Source

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import confidence_labels as L  # noqa: E402


def _reader_with_labels(tmp_path: Path, labels: dict | None, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[type-arg]
    """Point qa at a copy of the shipped reader whose calibration.json holds `labels`."""
    folder = tmp_path / "reader"
    folder.mkdir()
    model = folder / MODEL_FILE.name
    model.symlink_to(MODEL_FILE)
    cal = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    cal.pop("labels", None)
    if labels is not None:
        cal["labels"] = labels
    (folder / CALIBRATION_FILE.name).write_text(json.dumps(cal), encoding="utf-8")
    monkeypatch.setenv("QA_READER_MODEL", str(model))


def test_words_follow_the_measured_cut_offs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _reader_with_labels(tmp_path, {"high": None, "medium": 0.6}, monkeypatch)
    # no confidence earned "high" on validation: 0.85 is not called high
    assert confidence_label(0.85) == ("medium", "bold yellow")
    assert confidence_label(0.6)[0] == "medium"  # type: ignore[index]
    assert confidence_label(0.59)[0] == "low"  # type: ignore[index]
    assert confidence_mark(0.85).plain == "● medium 0.85"


def test_high_is_given_where_it_was_earned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _reader_with_labels(tmp_path, {"high": 0.55, "medium": 0.45}, monkeypatch)
    assert [confidence_label(c)[0] for c in (0.56, 0.5, 0.4)] == ["high", "medium", "low"]  # type: ignore[index]


def test_without_a_measurement_the_number_stands_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _reader_with_labels(tmp_path, None, monkeypatch)
    assert label_cutoffs() is None
    assert confidence_mark(0.74).plain == "0.74"


def test_the_shipped_calibration_holds_the_measurement() -> None:
    cal = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    labels = cal["labels"]
    assert "validation" in labels["measured_on"] and sum(b["answers"] for b in labels["table"]) > 100
    assert labels["share_high"] == L.HIGH_SHARE
    if labels["medium"] is not None:  # an answer is never below the abstention cut
        assert labels["medium"] >= cal["abstain_below"]
        assert labels["high"] is None or labels["high"] > labels["medium"]


def test_cut_off_rule_on_known_rows() -> None:
    # answers at 0.7 and above right 9 times in 10, at 0.5-0.7 right 7 in 10, below that 4 in 10
    rows = [(0.75, i % 10 != 0) for i in range(50)] + [(0.6, i % 10 < 7) for i in range(50)] + [(0.45, i % 10 < 4) for i in range(50)]
    cuts = L.cutoffs(rows, abstain_below=0.4)
    assert cuts["high"] is not None and 0.6 < cuts["high"] <= 0.75
    assert cuts["medium"] is not None and 0.45 < cuts["medium"] <= 0.6
    assert L.cutoffs([(0.7, i % 2 == 0) for i in range(100)], abstain_below=0.4) == {"high": None, "medium": None}


def test_not_found_shows_no_confidence_mark() -> None:
    from tui.render import answer_text

    passage = Passage("a.txt#1:1", "a.txt#1", "a.txt", "A", "The archive opens at nine.", 0, 26, 1, 1)
    src = Source(passage=passage, rank=1, retrieval_score=0.1, sentence=passage.text, sentence_start=0, sentence_end=26)
    answer = Answer("What is the boiling point of mercury?", None, None, 0.06, True, (src,))
    shown = answer_text(answer).plain
    assert "Not found in the sources." in shown
    assert "●" not in shown and "low" not in shown and "0.06" not in shown
    assert "0.06" not in transcript_markdown([answer])
