"""The fixed, by-article train / validation / test split of the SQuAD dev files.

The reader is trained on SQuAD v1.1 dev + v2.0 dev (the official train set is not available
here), so every number about it must come from articles it never saw. The split is by article
(`title`), fixed by file order so anyone can rebuild it:

- train: SQuAD v2.0 dev articles 1-24 (file order) and the 13 v1.1 dev articles v2.0 lacks;
- validation: v2.0 articles 25-28 (checkpoint choice, abstention margin, confidence fit);
- test: v2.0 articles 29-35 (Rhine … Force): the only split numbers are reported on.

v2.0's answerable questions are v1.1 questions with the same ids; its paragraphs are v1.1
paragraphs, so the union is v1.1's questions plus v2.0's unanswerable ones, over v1.1's
paragraphs (v2.0 pids are renumbered, so paragraphs are joined by text).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import UsageError
from qa.values import normalize_answer as normalize

__all__ = ["SPLITS", "SquadData", "bench_dir", "load", "normalize"]

SPLITS = ("train", "validation", "test", "all")
# of the 35 v2.0 articles: 24 train, 4 validation, 7 test (the same shares for another file)
TRAIN_SHARE, VALIDATION_SHARE = 24 / 35, 4 / 35


def bench_dir(explicit: str | Path | None = None) -> Path:
    """Where the public benchmark files are: an option, else QA_BENCH_DIR, else ../shared/bench."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("QA_BENCH_DIR")
    if env:
        return Path(env).expanduser()
    from qa.config import PROJECT_ROOT

    return (PROJECT_ROOT.parent / "shared" / "bench").resolve()


def _jsonl(path: Path, required: bool = True) -> list[dict[str, Any]]:
    if not path.is_file():
        if not required:
            return []
        raise UsageError(f"SQuAD file not found: {path} (set --bench-dir or QA_BENCH_DIR)")
    try:
        with path.open(encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a SQuAD jsonl file ({exc})") from None


@dataclass
class SquadData:
    """All SQuAD dev paragraphs and questions, each article assigned to one split."""

    split_of: dict[str, str]  # article title -> split
    all_paragraphs: list[dict[str, Any]]  # {"pid", "title", "text"} (v1.1 pids)
    all_questions: list[dict[str, Any]]  # {"id", "question", "answers", "answer_starts", "is_impossible", "title", "pid"}
    para_text: dict[str, str]

    def _in(self, title: str, split: str) -> bool:
        return split == "all" or self.split_of.get(title) == split

    def articles(self, split: str) -> list[str]:
        return [t for t in self.split_of if self._in(t, split)]

    def paragraphs(self, split: str) -> list[dict[str, Any]]:
        return [p for p in self.all_paragraphs if self._in(p["title"], split)]

    def questions(self, split: str, version: str = "2.0") -> list[dict[str, Any]]:
        """The split's questions; version 1.1 leaves out the unanswerable ones."""
        return [q for q in self.all_questions if self._in(q["title"], split) and (version == "2.0" or not q["is_impossible"])]


def load(explicit_dir: str | Path | None = None) -> SquadData:
    root = bench_dir(explicit_dir)
    p1 = _jsonl(root / "squad-dev-v1.1.paragraphs.jsonl", required=False)
    q1 = _jsonl(root / "squad-dev-v1.1.questions.jsonl", required=False)
    p2 = _jsonl(root / "squad-dev-v2.0.paragraphs.jsonl", required=False)
    q2 = _jsonl(root / "squad-dev-v2.0.questions.jsonl", required=False)
    if not (p1 and q1) and not (p2 and q2):
        raise UsageError(f"SQuAD dev files not found in {root} (squad-dev-v1.1/v2.0 .paragraphs.jsonl and .questions.jsonl; set --bench-dir or QA_BENCH_DIR)")
    if not (p1 and q1):  # v2.0 alone: its answerable questions stand in for v1.1's
        p1, q1 = p2, [q for q in q2 if not q.get("is_impossible")]
    v2_titles = list(dict.fromkeys(p["title"] for p in p2))
    v1_only = [t for t in dict.fromkeys(p["title"] for p in p1) if t not in set(v2_titles)]
    n_train = round(len(v2_titles) * TRAIN_SHARE)
    n_val = max(1, round(len(v2_titles) * VALIDATION_SHARE))
    split_of = {t: "train" for t in v2_titles[:n_train]}
    split_of.update({t: "validation" for t in v2_titles[n_train : n_train + n_val]})
    split_of.update({t: "test" for t in v2_titles[n_train + n_val :]})
    split_of.update({t: "train" for t in v1_only})
    by_text = {p["text"]: p["pid"] for p in p1}
    v2_to_v1 = {p["pid"]: by_text.get(p["text"], p["pid"]) for p in p2}
    by_id = {q["id"] for q in q1}
    questions = [{**q, "is_impossible": False} for q in q1]
    questions += [{**q, "pid": v2_to_v1[q["pid"]]} for q in q2 if q.get("is_impossible") and q["id"] not in by_id]
    questions.sort(key=lambda q: (q["pid"], q["id"]))
    return SquadData(split_of=split_of, all_paragraphs=p1, all_questions=questions, para_text={p["pid"]: p["text"] for p in p1})
