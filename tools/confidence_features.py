"""Would word-overlap features make the reader's confidence model better? (a measured "no")

    python tools/confidence_features.py [--model reader-int8.onnx]

The confidence model (qa.answers.answer.FEATURES: the reader's margin over "no answer", the answer's
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
import functools
import os
import pickle
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import train_reader as T  # noqa: E402
from qa.answers import answer as A  # noqa: E402
from qa.documents.sentences import sentence_spans  # noqa: E402

CACHE = ROOT / "build" / "confidence_features.pkl"
WORD_FEATURES = ("missing_names", "q_in_passage", "q_in_sentence", "answer_in_question")
FEATURE_SETS = ((), *((n,) for n in WORD_FEATURES), WORD_FEATURES)
WORD = re.compile(r"\w+")


def read_validation() -> list[dict]:
    """Each validation question with its top-5 hybrid hits and the reader's reading of them."""
    from qa.answers.reader import Reader
    from qa.eval import public as B

    bench = B.load_squad(None, split="validation", sample=0, seed=T.SEED, version="2.0")
    articles = {q["id"]: q["title"] for q in T.squad_split.load(None).questions("validation")}
    readings = T.open_readings(bench, B.open_bench_engine(bench), Reader.load(calibrated=False))
    return [{"q": q, "question": bench.queries[q], "article": articles[q], "gold": bench.answers[q], "hits": hs, "reading": rd} for q, hs, rd in readings]


@functools.cache
def _lexicon() -> tuple[Any, frozenset[str]]:
    """The Snowball stemmer and the stopwords (bm25s's, and the question words)."""
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return Stemmer.Stemmer("english"), frozenset(STOPWORDS_EN_PLUS) | {"what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "does", "do", "was", "were"}


def word_features(question: str, passage: str, sentence: str, answer: str) -> list[float]:
    """The WORD_FEATURES of one answer, in that order."""
    stem, stop = _lexicon()

    def content(text: str) -> set[str]:
        return {stem.stemWord(w) for w in WORD.findall(text.lower()) if w not in stop}

    words = WORD.findall(question)
    names = {w.lower() for i, w in enumerate(words) if (i > 0 and w[:1].isupper()) or any(c.isdigit() for c in w)}
    held = set(WORD.findall(passage.lower()))
    q, p, s, a = content(question), content(passage), content(sentence), content(answer)
    return [
        sum(n not in held for n in names) / len(names) if names else 0.0,
        len(q & p) / len(q) if q else 1.0,
        len(q & s) / len(q) if q else 1.0,
        len(a & q) / len(a) if a else 0.0,
    ]


def rows_with_every_feature(read: list[dict]) -> list[dict]:
    """`train_reader.calibrate`'s rows (the best 5 distinct answers per question, their F1),
    with all WORD_FEATURES appended to qa.answers.answer's: computed once, then chosen per set."""

    def extra(question: str):  # type: ignore[no-untyped-def]
        def features(passage: str, g: Any) -> list[float]:
            a, b = g.best.start, g.best.end
            sentence = " ".join(passage[s:e] for s, e in sentence_spans(passage) if s < b and a < e) or passage
            return word_features(question, passage, sentence, passage[a:b])

        return features

    return [
        {"q": c["q"], "article": c["article"], "has": bool(c["gold"]), "cands": T.candidates(c["reading"], c["hits"], c["gold"], 5, extra(c["question"]))}
        for c in read
    ]


def keep_features(rows: list[dict], names: tuple[str, ...]) -> list[dict]:
    """The rows with qa.answers.answer's features and only the named word features."""
    keep = list(range(len(A.FEATURES))) + [len(A.FEATURES) + WORD_FEATURES.index(n) for n in names]
    return [{**row, "cands": [([f[i] for i in keep], f1) for f, f1 in row["cands"]]} for row in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="reader ONNX file (default: the shipped one)")
    args = ap.parse_args()
    if args.model:
        os.environ["QA_READER_MODEL"] = str(Path(args.model).resolve())
    if not CACHE.exists():
        CACHE.parent.mkdir(exist_ok=True)
        CACHE.write_bytes(pickle.dumps(read_validation()))
    every = rows_with_every_feature(pickle.loads(CACHE.read_bytes()))
    for extra in FEATURE_SETS:
        rows = keep_features(every, extra)
        cal = T.fit_confidence(rows)
        _, f1 = T.best_threshold(*T.most_confident(rows, cal))
        print(f"{' + '.join(('base', *extra)):70s} validation open F1 {f1:.2f}  leave-one-article-out {T.leave_one_article_out(rows):.2f}", flush=True)


if __name__ == "__main__":
    main()
