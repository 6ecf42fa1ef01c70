"""How often is an answer of a given confidence right? The reliability table behind the
"● high / medium / low" words, and the cut-offs they use.

    python tools/confidence_labels.py [--model path/to/reader-int8.onnx] [--dry-run]
    python tools/confidence_labels.py --from-rows build/confidence_rows.json   # re-pick cut-offs only

Measured on the SQuAD v2.0 dev *validation* articles only (qa.eval.squad_split: v2.0
articles 25-28, the ones the confidence model and abstention cut were fitted on) with open
retrieval (hybrid top 5, as `qa ask` reads), through the answer layer itself
(qa.answers.answer.answer_one), so the confidence binned is the one a user sees. Nothing from the test
articles, tests/data or seeds/ is read.

An answered question counts as right when its answer's SQuAD token F1 against a reference
answer is at least 0.5 (an exact match has F1 1); an answer to an unanswerable question is
wrong. The share right at each confidence is read off the isotonic regression of right on
confidence over the answered questions (a monotone reliability curve), and:

- high: from the lowest confidence at which the curve says right at least HIGH_SHARE (80 %) of
  the time (with at least MIN_ANSWERS answers from there up);
- medium: from the lowest confidence (not under the abstention cut) at which it says right at
  least MEDIUM_SHARE (two times in three), up to the high cut;
- low: answered, below the medium cut.

A label whose share is reached at no cut is never given (its cut-off is null). The table and
cut-offs are written into the reader's calibration.json ("labels"), which qa.present reads, and
printed as Markdown for docs/evaluation.md. Run it again after `train_reader.py calibrate`
whenever the reader or its calibration changes (calibrate rewrites calibration.json without
"labels", and until this is run the confidence is shown as a number without a word).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

HIGH_SHARE = 0.80
MEDIUM_SHARE = 2 / 3  # right two times in three; under it an answer is about a coin toss (measured: 51-57 %)
MIN_ANSWERS = 30  # a share of fewer answers than this is too noisy to name a label by
RIGHT_F1 = 0.5
ROWS = ROOT / "build" / "confidence_rows.json"  # what --from-rows reads back
BINS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0001)


def share_right(rows: list[tuple[float, bool]]) -> float | None:
    return sum(r for _, r in rows) / len(rows) if rows else None


def reliability(rows: list[tuple[float, bool]]) -> list[float]:
    """Each answer's share right as a function of its confidence: the isotonic (monotone)
    regression of right on confidence, the standard reliability curve — a band's share is not
    lifted by better answers above it, as a share over "this confidence or more" would be."""
    from sklearn.isotonic import IsotonicRegression

    conf = [c for c, _ in rows]
    right = [float(r) for _, r in rows]
    return [float(x) for x in IsotonicRegression(increasing=True, out_of_bounds="clip").fit(conf, right).predict(conf)]


def _lowest(rows: list[tuple[float, bool]], est: list[float], share: float, lo: float, hi: float) -> float | None:
    """The lowest confidence in [lo, hi) whose answers are right at least `share` of the time
    by the curve, when at least MIN_ANSWERS answers stand from it up to `hi`."""
    ok = [c for (c, _), e in zip(rows, est) if e >= share and lo <= c < hi]
    if not ok:
        return None
    cut = min(ok)
    return round(cut, 4) if sum(1 for c, _ in rows if cut <= c < hi) >= MIN_ANSWERS else None


def cutoffs(rows: list[tuple[float, bool]], abstain_below: float) -> dict[str, float | None]:
    """The high and medium cut-offs (see the module docstring) for (confidence, right) pairs
    of the answered questions."""
    if not rows:
        return {"high": None, "medium": None}
    est = reliability(rows)
    high = _lowest(rows, est, HIGH_SHARE, 0.0, math.inf)
    medium = _lowest(rows, est, MEDIUM_SHARE, abstain_below, high if high is not None else math.inf)
    return {"high": high, "medium": medium}


def table(rows: list[tuple[float, bool]]) -> list[dict]:
    """Answers per confidence bin and the share of them that is right."""
    out = []
    for lo, hi in zip(BINS, BINS[1:]):
        band = [row for row in rows if lo <= row[0] < hi]
        share = share_right(band)
        out.append({"from": lo, "to": min(hi, 1.0), "answers": len(band), "right": None if share is None else round(share, 3)})
    return out


def markdown(labels: dict) -> str:
    lines = ["| confidence | answers | right (F1 ≥ 0.5) |", "| --- | ---: | ---: |"]
    for b in labels["table"]:
        right = "–" if b["right"] is None else f"{100 * b['right']:.0f} %"
        lines.append(f"| {b['from']:.2f}–{b['to']:.2f} | {b['answers']} | {right} |")
    return "\n".join(lines)


def measure(model: str | None) -> tuple[list[tuple[float, bool]], dict, int]:
    """(confidence, right) of each answered validation question, the calibration, questions read."""
    import train_reader as T

    from qa.answers import answer as A
    from qa.answers.reader import CALIBRATION_FILE, Reader, load_calibration
    from qa.eval import metrics as M
    from qa.eval import public as B

    if model:
        os.environ["QA_READER_MODEL"] = str(Path(model).resolve())
    path = Path(model).resolve().parent / CALIBRATION_FILE.name if model else CALIBRATION_FILE
    cal = load_calibration(path)
    bench = B.load_squad(None, split="validation", sample=0, seed=T.SEED, version="2.0")
    reader = Reader.load(model, calibrated=False)
    rows = []
    for q, hits, reading in T.open_readings(bench, B.open_bench_engine(bench), reader):
        ans = A.answer_one(bench.queries[q], hits, reading, None, calibration=cal)
        if ans.abstained:
            continue
        gold = bench.answers[q]
        rows.append((float(ans.confidence), bool(gold) and M.token_f1(ans.text, gold) >= RIGHT_F1))
    return rows, cal, len(bench.queries)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="the reader file (its calibration.json beside it); default: the shipped one")
    ap.add_argument("--dry-run", action="store_true", help="print, do not write calibration.json")
    ap.add_argument("--from-rows", type=Path, default=None, help="the (confidence, right) rows a previous run saved: no reading")
    args = ap.parse_args()
    from qa.answers.reader import CALIBRATION_FILE, load_calibration

    if args.from_rows:
        saved = json.loads(args.from_rows.read_text(encoding="utf-8"))
        rows, questions = [(float(c), bool(r)) for c, r in saved["rows"]], int(saved["questions"])
        cal = load_calibration(Path(args.model).resolve().parent / CALIBRATION_FILE.name if args.model else CALIBRATION_FILE)
    else:
        rows, cal, questions = measure(args.model)
        ROWS.parent.mkdir(parents=True, exist_ok=True)
        ROWS.write_text(json.dumps({"questions": questions, "rows": rows}) + "\n", encoding="utf-8")
    cuts = cutoffs(rows, float(cal["abstain_below"]))
    labels = {
        **cuts,
        "share_high": HIGH_SHARE,
        "share_medium": round(MEDIUM_SHARE, 3),
        "right_means": f"token F1 >= {RIGHT_F1} against a reference answer",
        "measured_on": f"SQuAD v2.0 dev validation articles, open retrieval top 5: {questions} questions, {len(rows)} answered",
        "answered_right": round(share_right(rows) or 0.0, 3),
        "table": table(rows),
    }
    print(json.dumps(labels, indent=1))
    print(markdown(labels))
    if not args.dry_run:
        path = Path(args.model).resolve().parent / CALIBRATION_FILE.name if args.model else CALIBRATION_FILE
        data = json.loads(path.read_text(encoding="utf-8"))
        data["labels"] = labels
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"wrote labels into {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
