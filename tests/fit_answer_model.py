"""Refit the answer layer's confidence model and abstention threshold on a gold set.

    python tests/fit_answer_model.py [tests/data/dev_gold.jsonl] [-k 5] [--retriever hybrid]

Prints the fitted constants for qa/answer.py (FEATURES/WEIGHTS/BIAS/ABSTAIN_BELOW), the dev
metrics with them (hit@1, EM/F1, abstention P/R/F1), 5-fold cross-validated metrics (how
much of the fit is overfitting), and the reliability table (confidence bins vs accuracy).

Label of a question: 1 when the top answer's sentence (or span) holds a gold answer, 0 when
it does not or when the question should be abstained on. Logistic regression by Newton's
method with an L2 penalty (no scikit-learn needed). Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import answer as A  # noqa: E402
from qa import metrics as M  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.gold import load_gold  # noqa: E402

L2 = 1.0


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = 50) -> tuple[np.ndarray, float]:
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.eye(xb.shape[1]) * l2
    reg[-1, -1] = 0.0  # no penalty on the bias
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) + reg @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + reg + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def run(engine, items, hits_all, qvecs, weights, bias):  # type: ignore[no-untyped-def]
    """(features, labels, rows) of the top answer of each question under these weights."""
    feats, labels, rows = [], [], []
    for item, hits, qv in zip(items, hits_all, qvecs, strict=True):
        q = A._question(engine, item.question)
        _, groups = A.rank_candidates(engine, q, hits, qv, weights, bias)
        top = groups[0][0] if groups else None
        f = list(top.features) if top else [0.0] * len(A.FEATURES)
        text = top.text if top else None
        sent = top.sentence.text if top else None
        hit = bool(item.answerable and top and max(M.answer_in(sent, item.answers), M.answer_in(text, item.answers)))
        feats.append(f)
        labels.append(1.0 if hit else 0.0)
        rows.append({"item": item, "text": text, "sentence": sent, "hit": hit})
    return np.array(feats), np.array(labels), rows


def metrics(rows, conf, threshold):  # type: ignore[no-untyped-def]
    ans = [(r, c) for r, c in zip(rows, conf, strict=True) if r["item"].answerable]
    hit = np.mean([r["hit"] and c >= threshold for r, c in ans])
    em = np.mean([M.exact_match(r["text"], r["item"].answers) if c >= threshold else 0.0 for r, c in ans])
    f1 = np.mean([M.token_f1(r["text"], r["item"].answers) if c >= threshold else 0.0 for r, c in ans])
    prf = M.abstention_prf([not r["item"].answerable for r in rows], [c < threshold for c in conf])
    return {"hit@1": hit, "em": em, "f1": f1, **{f"abst_{k}": v for k, v in prf.items()}}


def best_threshold(rows, conf):  # type: ignore[no-untyped-def]
    grid = np.round(np.arange(0.05, 0.95, 0.01), 2)
    scored = [(metrics(rows, conf, t), t) for t in grid]
    return max(scored, key=lambda mt: (mt[0]["hit@1"] + mt[0]["abst_f1"], -abs(mt[1] - 0.5)))[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("gold", nargs="?", default=str(ROOT / "tests/data/dev_gold.jsonl"))
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--retriever", default="hybrid")
    args = ap.parse_args()
    items = load_gold(args.gold).items
    engine = Engine.open()
    questions = [it.question for it in items]
    hits_all = engine.search_many(questions, k=args.k, retriever=args.retriever)
    qvecs = engine.searcher.embed_queries(questions)

    weights, bias = np.array(A.WEIGHTS), A.BIAS
    x, y, rows = run(engine, items, hits_all, qvecs, weights, bias)
    print(f"current constants: hit-rate of top answers {y.mean():.3f}")
    for _ in range(2):  # the ranking depends on the weights: refit on the new ranking once more
        weights, bias = fit_logistic(x, y)
        x, y, rows = run(engine, items, hits_all, qvecs, weights, bias)
    conf = 1 / (1 + np.exp(-(x @ weights + bias)))
    thr = best_threshold(rows, conf)
    print("FEATURES =", A.FEATURES)
    print("WEIGHTS = (" + ", ".join(f"{w:.3f}" for w in weights) + ")")
    print(f"BIAS = {bias:.3f}")
    print(f"ABSTAIN_BELOW = {thr:.2f}")
    print("dev (fitted on itself):", {k: round(float(v), 3) for k, v in metrics(rows, conf, thr).items()})

    # 5-fold cross-validation: weights and threshold fit on 4/5, scored on the held-out 1/5
    rng = np.random.default_rng(0)
    order = rng.permutation(len(items))
    cv_conf = np.zeros(len(items))
    cv_thr = np.zeros(len(items))
    for fold in range(5):
        test = order[fold::5]
        train = np.setdiff1d(order, test)
        w, b = fit_logistic(x[train], y[train])
        c_train = 1 / (1 + np.exp(-(x[train] @ w + b)))
        t = best_threshold([rows[i] for i in train], c_train)
        cv_conf[test] = 1 / (1 + np.exp(-(x[test] @ w + b)))
        cv_thr[test] = t
    cv_abst = cv_conf < cv_thr
    cv = metrics(rows, np.where(cv_abst, 0.0, 1.0), 0.5)
    print("5-fold CV:", {k: round(float(v), 3) for k, v in cv.items()})

    print("\nreliability (fitted confidence of the top answer vs its correctness):")
    print("  bin        n   accuracy")
    edges = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0001]
    for lo, hi in zip(edges, edges[1:], strict=False):
        sel = (conf >= lo) & (conf < hi)
        acc = float(y[sel].mean()) if sel.any() else float("nan")
        print(f"  {lo:.1f}-{min(hi, 1.0):.1f}  {int(sel.sum()):4d}   {acc:.2f}")

    print("\nfailures:")
    for r, c, lab in zip(rows, conf, y, strict=True):
        it = r["item"]
        wrong = (it.answerable and (not r["hit"] or c < thr)) or (not it.answerable and c >= thr)
        if wrong:
            print(f"  [{it.type}] {it.question} | gold {list(it.answers)[:2]} | got {str(r['text'])[:60]!r} conf {c:.2f}")


if __name__ == "__main__":
    main()
