"""Would word-overlap features make the reader's confidence model better? (a measured "no")

    python tools/confidence_features.py [--model reader-int8.onnx]

The confidence model (qa.answer.FEATURES: the reader's margin over "no answer", the answer's
share of the shared probability, the null probability, the passage's rank) is a logistic
regression fitted on the validation articles. A verifier over what the question and the
answer's passage share is the usual next step; this script measures whether it helps *this*
reader: each feature set below is fitted on the validation articles (SQuAD v2.0 convention,
open retrieval, hybrid top 5) exactly as `train_reader.py calibrate` fits the shipped one, and
scored in-sample and leave-one-article-out. Nothing from the test articles, tests/data or
seeds/ is read. The reader's output is cached in build/confidence_features.pkl.

    missing_names       share of the question's names and numbers (capitalised words after the
                        first, tokens with a digit) the passage does not hold
    q_in_passage        share of the question's content words (bm25s English stopwords out,
    q_in_sentence       Snowball stems) in the passage / in the answer's sentence
    answer_in_question  share of the answer's content words the question already holds
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import train_reader as T  # noqa: E402
from qa import answer as A  # noqa: E402
from qa.eval import metrics as M  # noqa: E402
from qa.sentences import sentence_spans  # noqa: E402

CACHE = ROOT / "build" / "confidence_features.pkl"
FEATURE_SETS = (
    (),
    ("missing_names",),
    ("q_in_passage",),
    ("q_in_sentence",),
    ("answer_in_question",),
    ("missing_names", "q_in_passage", "q_in_sentence", "answer_in_question"),
)
WORD = re.compile(r"\w+")


def read_validation() -> list[dict]:
    """Each validation question with its top-5 hybrid hits and the reader's reading of them."""
    from qa.eval import public as B
    from qa.reader import Reader

    bench = B.load_squad(None, split="validation", sample=0, seed=T.SEED, version="2.0")
    engine = B.open_bench_engine(bench)
    r = Reader.load(calibrated=False)
    articles = {q["id"]: q["title"] for q in T.squad_split.load(None).questions("validation")}
    qids, out = list(bench.queries), []
    for start in range(0, len(qids), 32):
        chunk = qids[start : start + 32]
        hits = engine.search_many([bench.queries[q] for q in chunk], k=5)
        readings = r.read_many([bench.queries[q] for q in chunk], [[h.passage.text for h in hs] for hs in hits])
        for q, hs, rd in zip(chunk, hits, readings, strict=True):
            out.append({"q": q, "question": bench.queries[q], "article": articles[q], "gold": bench.answers[q], "hits": hs, "reading": rd})
        T.log(f"read {min(start + 32, len(qids))}/{len(qids)}")
    return out


def word_features(question: str, passage: str, sentence: str, answer: str) -> dict[str, float]:
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    stem = Stemmer.Stemmer("english")
    stop = set(STOPWORDS_EN_PLUS) | {"what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "does", "do", "was", "were"}

    def content(text: str) -> set[str]:
        return {stem.stemWord(w) for w in WORD.findall(text.lower()) if w not in stop}

    words = WORD.findall(question)
    names = {w.lower() for i, w in enumerate(words) if (i > 0 and w[:1].isupper()) or any(c.isdigit() for c in w)}
    held = set(WORD.findall(passage.lower()))
    q, p, s, a = content(question), content(passage), content(sentence), content(answer)
    return {
        "missing_names": sum(n not in held for n in names) / len(names) if names else 0.0,
        "q_in_passage": len(q & p) / len(q) if q else 1.0,
        "q_in_sentence": len(q & s) / len(q) if q else 1.0,
        "answer_in_question": len(a & q) / len(a) if a else 0.0,
    }


def rows_with(read: list[dict], extra: tuple[str, ...]) -> list[dict]:
    """`train_reader.calibrate`'s rows (the best 5 distinct answers per question, their F1),
    with the extra features appended to qa.answer's."""
    neutral = {"weights": [0.0] * len(A.FEATURES), "bias": 0.0}
    rows = []
    for c in read:
        rd, hs = c["reading"], c["hits"]
        cands = []
        for g in sorted(A.distinct_answers(rd, hs, neutral), key=lambda g: -g.best.score)[:5]:
            p = hs[g.best.passage].passage.text
            text = p[g.best.start : g.best.end]
            sentence = " ".join(p[a:b] for a, b in sentence_spans(p) if a < g.best.end and g.best.start < b) or p
            w = word_features(c["question"], p, sentence, text)
            feats = A.answer_features(rd, g.spans, hs[g.best.passage].rank) + [w[n] for n in extra]
            cands.append((feats, M.token_f1(text, c["gold"]) if c["gold"] else 0.0))
        rows.append({"q": c["q"], "article": c["article"], "has": bool(c["gold"]), "cands": cands})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="reader ONNX file (default: the shipped one)")
    args = ap.parse_args()
    if args.model:
        os.environ["QA_READER_MODEL"] = str(Path(args.model).resolve())
    if not CACHE.exists():
        CACHE.parent.mkdir(exist_ok=True)
        CACHE.write_bytes(pickle.dumps(read_validation()))
    read = pickle.loads(CACHE.read_bytes())
    for extra in FEATURE_SETS:
        rows = rows_with(read, extra)
        cal = T.fit_confidence(rows)
        _, f1 = T.best_threshold(*T.most_confident(rows, cal))
        print(f"{' + '.join(('base', *extra)):70s} validation open F1 {f1:.2f}  leave-one-article-out {T.leave_one_article_out(rows):.2f}", flush=True)


if __name__ == "__main__":
    main()
