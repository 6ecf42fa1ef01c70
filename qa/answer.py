"""Extractive answers: the exact words of the sources that answer a question.

No extractive reader model installs offline here, so answers come from *sentence scoring*
over the retrieved passages (measured on the dev gold set — see docs/evaluation.md and the
README section on `qa ask`):

1. every sentence of the top-k passages is scored by how much of the question it covers
   (IDF-weighted stemmed terms: a rare word like "Boluarte" counts more than "Peru"), how
   much its passage and title cover, and how well its passage was retrieved;
2. the question's wh-phrase says what kind of span it wants (a number for "how many", a date
   for "when", a name for "who", a place for "where"); rule-based finders
   (`qa.answer_types`) propose such spans in the sentence, ranked by how typical they are,
   how close they stand to the question's words and whether the question itself already
   names them (a "who" answer is never a name the question gave);
3. equal answers from several sources are merged (their sources listed together); when the
   best sources give different numbers or dates, the answer reports the conflict;
4. a logistic model over a few general features turns the best candidate's evidence into a
   confidence in [0, 1]; below a threshold calibrated on the dev set the answer is
   "not found in the sources", still with the closest excerpts.

Everything here is arithmetic on strings already in memory: after retrieval an answer costs
well under a millisecond a sentence, so `ask` stays within its latency budget.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .answer_types import DATE, DURATION, EXPANSION, NUMBER, SENTENCE, acronym_in, canonical, compatible, expected_kind, find_expansions, find_spans, wants_organisation
from .errors import QAError
from .records import Answer, Candidate, Hit, Passage, Source
from .sentences import sentence_spans

__all__ = ["Answer", "Candidate", "Source", "answer_questions", "ABSTAIN_BELOW"]

# --------------------------------------------------------------------------- calibration
# Confidence = sigmoid(b + w·x) over the features of `_features`. Fit by logistic regression
# (numpy Newton steps, L2 = 1.0) on tests/data/dev_gold.jsonl with tests/fit_answer_model.py:
# label 1 when the answer's sentence holds a gold answer, 0 when it does not or when the
# question is unanswerable / off-topic. Re-run that script after changing the features.
FEATURES = ("dense", "lex", "lex_context", "typed", "type_miss", "support", "near", "score", "missing")
WEIGHTS = (0.413, 1.343, 1.268, 0.921, 0.000, 0.159, 1.042, 1.565, -0.764)
BIAS = -3.135
# Below this confidence the answer is "not found in the sources" (chosen on the dev set for
# the best abstention F1 that keeps answer hit@1 — see tests/fit_answer_model.py).
ABSTAIN_BELOW = 0.30

# Candidates whose confidence is at least this share of the best one's, from another
# passage, and with a different value, make a conflict.
CONFLICT_RATIO = 0.6
MAX_CONFLICTS = 5
MIN_RIVAL_PRIOR = 0.5
# A whole-sentence answer must say something beyond the question's own words.
MIN_NEW_WORDS = 3
CONFLICT_KINDS = (NUMBER, DATE, DURATION)

# Words that carry no topic: wh-words, auxiliaries, stopwords.
_STOP = frozenset(
    """
    a an and are as at be been being but by can could did do does doing done for from had has
    have having he her hers him his how i if in into is it its itself me more most my no nor
    not of off on once only or other our ours out over own same she should so some such than
    that the their theirs them then there these they this those through to too under until up
    very was we were what when where which while who whom whose why will with would you your
    yours also about after again against all any because before below between both during each
    few further here just many much now s t o y ve ll re d m said says say tell according
    happen happened happens kind sort type way get got go went make made take took give gave
    """.split()
)
_WORD = re.compile(r"[\w’']+")


# --------------------------------------------------------------------------- text helpers


class _Terms:
    """Stemmed content terms, with one stemmer shared by everything (PyStemmer, Snowball)."""

    _stemmer: Any = None
    _cache: dict[str, str] = {}

    @classmethod
    def stem(cls, word: str) -> str:
        got = cls._cache.get(word)
        if got is None:
            if cls._stemmer is None:
                import Stemmer

                cls._stemmer = Stemmer.Stemmer("english")
            got = cls._stemmer.stemWord(word)
            if len(cls._cache) < 200_000:
                cls._cache[word] = got
        return got

    @classmethod
    def of(cls, text: str) -> list[str]:
        out = []
        for w in _WORD.findall(text.lower().replace("’", "'")):
            w = w.strip("'")
            if w.endswith("'s"):
                w = w[:-2]
            if w and w not in _STOP and not w.endswith("n't"):
                out.append(cls.stem(w))
        return out


def _words(text: str) -> list[str]:
    """Lower-cased words, for word-vector lookup."""
    return [w.strip("'’") for w in _WORD.findall(text.lower())]


def _idf(index: Any, terms: Sequence[str], words: dict[str, str]) -> dict[str, float]:
    """Inverse document frequency of each question term over the index's passages.

    Taken from the BM25 index's own term→passage lists (no pass over the corpus); a term the
    index has never seen gets the highest IDF: it is rare, and it cannot match anyway.
    """
    n = max(1, len(index.passages))
    out: dict[str, float] = {}
    bm25 = getattr(index, "bm25", None)
    indptr = None
    try:
        indptr = bm25._retriever.scores["indptr"]  # type: ignore[union-attr]
    except Exception:  # another BM25 implementation: fall back to a flat IDF
        indptr = None
    for t in terms:
        df = 0
        if indptr is not None:
            try:
                ids = bm25.query_ids(words.get(t, t))  # type: ignore[union-attr]
                if ids:
                    df = int(indptr[ids[0] + 1] - indptr[ids[0]])
            except Exception:
                df = 0
        out[t] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
    return out


# --------------------------------------------------------------------------- scoring


class _WordVectors:
    """The embedding model's own input word vectors, for soft term matching.

    "died" and "killed", "dead", "death" share no stem; a reader that only matched stems would
    miss that two sources report the same fact. The first layer of all-MiniLM-L6-v2 maps each
    vocabulary word to a vector in which such words lie close (cosine ≈ 0.55–0.6, versus < 0.3
    for unrelated words): 30k × 384 floats read once from the bundled weights (≈ 0.1 s), no
    transformer pass, so matching stays at microseconds per sentence.
    """

    matrix: np.ndarray | None = None
    vocab: dict[str, int] = {}
    failed = False

    @classmethod
    def load(cls) -> bool:
        if cls.matrix is not None or cls.failed:
            return not cls.failed
        try:
            from pathlib import Path

            from safetensors import safe_open

            from .embed import bundled_model_dir

            folder = Path(bundled_model_dir())
            with safe_open(str(folder / "model.safetensors"), framework="numpy") as fh:
                name = next(k for k in fh.keys() if k.endswith("word_embeddings.weight"))
                m = fh.get_tensor(name).astype(np.float32)
            m /= np.linalg.norm(m, axis=1, keepdims=True) + 1e-9
            words = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
            cls.vocab = {w: i for i, w in enumerate(words) if w.isalpha()}
            cls.matrix = m
        except Exception:  # weights missing or unreadable: exact stem matching only
            cls.failed = True
        return not cls.failed

    @classmethod
    def ids(cls, words: Sequence[str]) -> list[int]:
        return [cls.vocab[w] for w in words if w in cls.vocab]


SOFT_MIN = 0.45  # word-vector cosine from which two different words count as a (partial) match


@dataclass
class _Question:
    text: str
    kind: str
    terms: dict[str, float]  # stem -> idf
    words: frozenset[str]  # lower-cased words of the question (to keep its own names out of answers)
    originals: dict[str, str]  # stem -> the question's word
    org: bool = False  # a name question that asks for a group, not a person
    names: frozenset[str] = frozenset()  # stems of the question's proper nouns ("Ayacucho")
    why: bool = False  # asks for a reason
    acronym: str | None = None  # the acronym an EXPANSION question asks about
    explains: bool = False  # a why/how question: the answer may follow the sentence restating it
    defines: re.Pattern[str] | None = None  # "who/what is X?": X followed by an appositive or "is a"

    def __post_init__(self) -> None:
        self._vecs: np.ndarray | None = None
        self._order: list[str] = []
        if _WordVectors.load():
            order = [t for t in self.terms if self.originals.get(t) in _WordVectors.vocab]
            if order:
                self._order = order
                self._vecs = _WordVectors.matrix[_WordVectors.ids([self.originals[t] for t in order])]  # type: ignore[index]

    @property
    def weight(self) -> float:
        return sum(self.terms.values()) or 1.0

    def match(self, word: str) -> tuple[str, float] | None:
        """(question term, similarity) that `word` (lower-cased) matches: 1.0 for the same
        stem, the word-vector cosine for a near-synonym; None for no match."""
        if word in _STOP or not word or word.endswith("n't"):
            return None
        stem = _Terms.stem(word)
        if stem in self.terms:
            return (stem, 1.0)
        if self._vecs is None or word not in _WordVectors.vocab:
            return None
        sims = self._vecs @ _WordVectors.matrix[_WordVectors.vocab[word]]  # type: ignore[index]
        i = int(sims.argmax())
        return (self._order[i], float(sims[i])) if sims[i] >= SOFT_MIN else None

    def coverage(self, stems: set[str], words: Sequence[str] = ()) -> float:
        """IDF-weighted share of the question's terms the text holds (near-synonyms in part)."""
        got = {t: 1.0 for t in self.terms if t in stems}
        missing = [i for i, t in enumerate(self._order) if t not in got]
        if missing and words and self._vecs is not None:
            ids = _WordVectors.ids(dict.fromkeys(w for w in words if w not in _STOP))
            if ids:
                sims = self._vecs[missing] @ _WordVectors.matrix[ids].T  # type: ignore[index]
                best = sims.max(axis=1)
                for i, s in zip(missing, best, strict=True):
                    if s >= SOFT_MIN:
                        got[self._order[i]] = float(s)
        return sum(self.terms[t] * v for t, v in got.items()) / self.weight


@dataclass
class _Sentence:
    hit: Hit
    start: int  # offsets in hit.passage.text
    end: int
    stems: set[str]
    lex: float
    lex_context: float
    dense: float  # cosine of the question to the sentence's passage
    score: float = 0.0
    missing: float = 0.0  # share of the question's proper nouns its passage never mentions

    @property
    def text(self) -> str:
        return self.hit.passage.text[self.start : self.end]


@dataclass
class _Candidate:
    sentence: _Sentence
    start: int | None  # span offsets in passage.text (None: the sentence is the answer)
    end: int | None
    kind: str
    key: str
    score: float
    typed: bool  # a span of the expected kind was found
    near: float = 0.0  # how closely the question's terms surround the span
    prior: float = 1.0  # how typical the span is of its kind ("one", "thousands" are weak numbers)
    confidence: float = 0.0
    features: tuple[float, ...] = ()

    @property
    def text(self) -> str:
        p = self.sentence.hit.passage.text
        if self.start is None:
            return self.sentence.text
        return p[self.start : self.end]  # type: ignore[misc]


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def _features(c: _Candidate, q: _Question, support: int) -> list[float]:
    s = c.sentence
    expects = q.kind != SENTENCE
    return [
        s.dense,
        s.lex,
        s.lex_context,
        1.0 if (expects and c.typed) else 0.0,
        1.0 if (expects and not c.typed) else 0.0,
        min(support, 3) / 3.0,
        c.near,
        c.score,
        s.missing,
    ]


def _confidence(features: Sequence[float], weights: Sequence[float] = WEIGHTS, bias: float = BIAS) -> float:
    return _sigmoid(bias + sum(w * x for w, x in zip(weights, features, strict=True)))


def _sentences(q: _Question, hits: Sequence[Hit], dense: Sequence[float]) -> list[_Sentence]:
    out: list[_Sentence] = []
    seen: set[tuple[str, int]] = set()
    for hit, cos in zip(hits, dense, strict=True):
        p = hit.passage
        ctx_words = _words(p.title + "\n" + p.text)
        ctx_stems = set(_Terms.of(p.title)) | set(_Terms.of(p.text))
        lex_context = q.coverage(ctx_stems, ctx_words)
        missing = len(q.names - ctx_stems) / len(q.names) if q.names else 0.0
        prior = 1.0 / math.sqrt(hit.rank)
        prev_stems: set[str] = set()
        after_heading = False
        prev_lex_raw = 0.0
        for a, b in sentence_spans(p.text):
            a = _LIST_MARK.match(p.text, a, b).end()  # "- ", "1. ", "> ": layout, not words of the answer
            if a >= b:
                continue
            text = p.text[a:b]
            stems, ws = set(_Terms.of(text)), _words(text)
            lex = q.coverage(stems, ws)
            follows, prev_lex_raw = prev_lex_raw, lex
            continues = bool(_ANAPHOR.match(text) or _SAID.search(text) or text[:1] in "“\"‘")
            if continues or after_heading:
                # "He resigned in response to …" continues the sentence before it, which names
                # who "he" is: it covers the question's terms together with that sentence (and,
                # through a quotation that runs over several sentences, with the one before);
                # a section's first sentence is read under its heading in the same way
                lex = max(lex, CARRY * q.coverage(stems | prev_stems, ws))
            after_heading = _is_heading(text)
            prev_stems = stems | (prev_stems if continues else set())
            key = (p.doc_id, p.start + a)
            if key in seen:  # the overlap sentence of two neighbouring passages
                continue
            seen.add(key)
            score = 0.55 * lex + 0.15 * lex_context + 0.15 * prior + 0.15 * max(0.0, cos)
            if text.rstrip("\"'”’)]").endswith("?"):
                score -= 0.3  # a question in the text asks, it does not answer
            if q.why and _CAUSE.search(text):
                score += 0.15  # a reason is stated with "because", "in response to", …
            if q.explains:
                score += NEXT_BONUS * follows  # the reason or the manner often follows the sentence that sets the scene
            if q.defines and q.defines.search(text):
                score += 0.2  # "Castillo, a rural schoolteacher, …": a definition of what is asked about
            out.append(_Sentence(hit, a, b, stems, lex, lex_context, cos, score, missing))
    return out


CARRY = 0.7
NEXT_BONUS = 0.25
_LIST_MARK = re.compile(r"(?:[-*+•]\s+|>\s*|\d{1,3}[.)]\s+)*")


def _is_heading(text: str) -> bool:
    """A title line: a Markdown heading, or a short line with no closing punctuation."""
    if text.startswith("#"):
        return True
    return len(text.split()) <= 12 and not re.search(r"[.!?:;,\"”’')\]]\s*$", text) and "\n" not in text.strip()


_SAID = re.compile(r"[”\"’'],?\s+(?:he|she|they)\s+(?:said|says|added|indicated|explained|noted|stated|told|argued|warned)\b")
_ANAPHOR = re.compile(r"[“\"‘']?(?:He|She|It|They|This|These|That|Those|His|Her|Their|Its|There|Such)\b")
_CAUSE = re.compile(
    r"\b(?:because|due to|owing to|in response to|as a result|result of|in order to|so that|since|reasons?|"
    r"caused by|led to|leading to|driven by|prompted|aimed at|to prevent|to avoid|for fear|thanks to)\b",
    re.I,
)
_CLAUSE = re.compile(r",?\s(?:and|but|while|whereas|although)\s|;|:|\s[–—]\s")


def _near_terms(sentence: str, q: _Question, a: int, b: int) -> float:
    """How closely the question's terms surround the span, IDF-weighted, in [0, 1].

    Each question term found in the sentence counts by its IDF (a near-synonym by its IDF
    times its similarity) and fades with its distance from the span; a term in another
    clause ("… were killed and 912 people were injured") counts as far away, so a question
    about the dead picks the number of the dead, not the one of the injured.
    """
    cuts = [m.start() for m in _CLAUSE.finditer(sentence)]
    lo = max([c for c in cuts if c < a], default=-1)
    hi = min([c for c in cuts if c >= b], default=len(sentence) + 1)
    best: dict[str, float] = {}
    for m in _WORD.finditer(sentence):
        got = q.match(m.group(0).lower().strip("'’"))
        if got is None:
            continue
        term, sim = got
        d = a - m.end() if m.end() <= a else m.start() - b if m.start() >= b else 0
        if not lo <= m.start() < hi:
            d += 60
        best[term] = max(best.get(term, 0.0), sim * math.exp(-max(0, d) / 25.0))
    return min(1.0, sum(q.terms[t] * v for t, v in best.items()) / q.weight)


def _unit_match(sentence: str, q: _Question, b: int) -> bool:
    """A number followed (within three words) by a word of the question: "54 people"."""
    after = _WORD.findall(sentence[b : b + 40].lower())[:3]
    return any(q.match(w.strip("'’")) is not None for w in after)


def _in_question(text: str, q: _Question) -> bool:
    words = [w.lower() for w in _WORD.findall(text)]
    return bool(words) and all(w in q.words for w in words)


def _candidates(q: _Question, sentences: Sequence[_Sentence]) -> list[_Candidate]:
    out: list[_Candidate] = []
    for s in sentences:
        text = s.text
        found = False
        if q.kind != SENTENCE:
            spans = find_expansions(text, q.acronym) if q.kind == EXPANSION and q.acronym else find_spans(text, q.kind, q.org)
            for span in spans:
                piece = text[span.start : span.end]
                if _in_question(piece, q):
                    continue
                near = _near_terms(text, q, span.start, span.end)
                bonus = 0.2 * span.prior + 0.15 * near
                if any(w.lower() in q.words for w in _WORD.findall(piece) if w[:1].isupper()):
                    bonus -= 0.15  # "Boluarte and Prime Minister Otárola": half of it the question's own name
                if q.kind == NUMBER and _unit_match(text, q, span.end):
                    bonus += 0.1
                if q.kind == NUMBER and re.match(r"[- ](?:years?|months?|weeks?|days?|hours?)\b", text[span.end :]):
                    bonus -= 0.1  # "six weeks" is a duration, not a count
                found = True
                out.append(
                    _Candidate(
                        s,
                        s.start + span.start,
                        s.start + span.end,
                        q.kind,
                        canonical(piece, q.kind),
                        s.score + bonus,
                        True,
                        near,
                        span.prior,
                    )
                )
        if not found:
            penalty = 0.0 if q.kind == SENTENCE else 0.25
            new = [w for w in _words(text) if w not in _STOP and q.match(w) is None]
            if len(new) < MIN_NEW_WORDS:
                penalty += 0.2  # "Héctor Béjar offers reflections.": it repeats the question, it adds nothing
            out.append(_Candidate(s, None, None, SENTENCE, "§" + " ".join(text.casefold().split()), s.score - penalty, False))
    out.sort(key=lambda c: -c.score)
    return out


# --------------------------------------------------------------------------- records


def _source(c: _Candidate | _Sentence, locator: Any, with_answer: bool, score: float) -> Source:
    s = c.sentence if isinstance(c, _Candidate) else c
    p = s.hit.passage
    lines = locator.lines_for(p, s.start, s.end) if locator is not None else None
    span_start = span_end = None
    answer = None
    if with_answer and isinstance(c, _Candidate):
        if c.start is not None:
            span_start, span_end = c.start, c.end
        else:
            span_start, span_end = s.start, s.end
        answer = p.text[span_start:span_end]
    return Source(
        passage=p,
        rank=s.hit.rank,
        retrieval_score=s.hit.score,
        sentence=s.text,
        sentence_start=s.start,
        sentence_end=s.end,
        answer=answer,
        span_start=span_start,
        span_end=span_end,
        score=round(score, 4),
        lines=lines,
    )


def _group(cands: Sequence[_Candidate]) -> list[list[_Candidate]]:
    """Candidates with the same answer key together, best group first; one per sentence."""
    groups: dict[str, list[_Candidate]] = {}
    used: set[tuple[str, int]] = set()
    for c in cands:
        where = (c.sentence.hit.passage.doc_id, c.sentence.hit.passage.start + c.sentence.start)
        if where in used:
            continue  # a sentence gives one answer: its best span
        used.add(where)
        groups.setdefault(c.key, []).append(c)
    return sorted(groups.values(), key=lambda g: -g[0].score)


def _rivals(groups: Sequence[list[_Candidate]], threshold: float) -> list[list[_Candidate]]:
    """The other answers that disagree with the best one: a value of the same kind, nearly as
    confident, that cannot be true together with any answer already shown, stated in a
    document that does not also give the best answer (one article listing several figures —
    "18 dead in Puno … 60 in all" — is not a disagreement between sources)."""
    best = groups[0][0]
    best_docs = {c.sentence.hit.passage.doc_id for c in groups[0]}
    shown: list[_Candidate] = [best]
    out: list[list[_Candidate]] = []
    for g in groups[1:]:
        c = g[0]
        if c.kind != best.kind or c.confidence < max(threshold, CONFLICT_RATIO * best.confidence):
            continue
        if c.prior < MIN_RIVAL_PRIOR:
            continue  # "one of them", "thousands": not a figure a source stands by
        if not {x.sentence.hit.passage.doc_id for x in g} - best_docs:
            continue
        if any(compatible(c.text, s.text, c.kind) for s in shown):
            continue
        shown.append(c)
        out.append(g)
    return out


def _closest(sentences: Sequence[_Sentence], hits: Sequence[Hit], skip: set[str]) -> list[_Sentence]:
    """The best sentence of each retrieved passage not already cited, in retrieval order."""
    best: dict[str, _Sentence] = {}
    for s in sentences:
        pid = s.hit.passage.pid
        if pid in skip:
            continue
        if pid not in best or s.score > best[pid].score:
            best[pid] = s
    return [best[h.passage.pid] for h in hits if h.passage.pid in best]


# --------------------------------------------------------------------------- entry point


def _dense_scores(engine: Any, question_vec: np.ndarray | None, hits: Sequence[Hit]) -> list[float]:
    """Cosine of the question to each hit's passage (from the hit when the search had it)."""
    out = []
    for h in hits:
        cos = h.scores.get("dense") if h.scores else None
        if cos is None and question_vec is not None:
            cos = _passage_cosine(engine.index, h.passage, question_vec)
        out.append(float(cos) if cos is not None else 0.0)
    return out


def _passage_cosine(index: Any, passage: Passage, qvec: np.ndarray) -> float | None:
    rows = getattr(index, "_by_pid", None)
    if rows is None:
        return None
    if not rows:
        rows.update({p.pid: i for i, p in enumerate(index.passages)})
    row = rows.get(passage.pid)
    if row is None:
        return None
    try:
        vec = index.vectors.reconstruct(int(row))
    except Exception:  # an index type that cannot reconstruct: no dense evidence
        return None
    return float(np.dot(vec, qvec))


def _locator(engine: Any) -> Any:
    loc = getattr(engine, "_qa_line_locator", None)
    if loc is None:
        from .spans import LineLocator

        root = (engine.index.manifest.get("corpus") or {}).get("root")
        loc = LineLocator(root)
        try:
            engine._qa_line_locator = loc
        except AttributeError:  # a frozen or slotted engine: no caching, still correct
            pass
    return loc


def _question(engine: Any, text: str) -> _Question:
    raw_words = [w.strip("'’").lower() for w in _WORD.findall(text)]
    raw_words = [w[:-2] if w.endswith("'s") else w for w in raw_words]
    acronym = acronym_in(text)
    skip = {"stand", "mean", "abbreviate", "full", "name", "expansion", "meaning"} if acronym else set()
    stems: dict[str, str] = {}
    for w in raw_words:
        if w and w not in _STOP and w not in skip and not w.endswith("n't"):
            stems.setdefault(_Terms.stem(w), w)
    idf = _idf(engine.index, list(stems), stems)
    names = frozenset(
        _Terms.stem(re.sub(r"['’]s$", "", w.strip("'’")).lower())
        for w in _WORD.findall(text)[1:]
        if w[:1].isupper() and w.lower().strip("'’") not in _STOP
    ) & set(idf)
    why = bool(re.match(r"\W*(?:\w+\W+){0,4}?why\b", text, re.I)) or "reason" in text.lower()
    kind = expected_kind(text)
    # a why/how question that asks for neither a quantity nor a duration: a reason or a manner
    explains = kind == SENTENCE and bool(re.match(r"\W*(?:\w+\W+){0,4}?(?:why|how)\b", text, re.I))
    return _Question(
        text, kind, idf, frozenset(raw_words), stems, wants_organisation(text), names, why, acronym, explains,
        _definition(text) if kind == SENTENCE else None,
    )


def _definition(text: str) -> re.Pattern[str] | None:
    """For "Who is Pedro Castillo?" / "What is the CGTP?" (sentence-kind questions): a pattern of
    sentences that define the subject ("Castillo, a rural schoolteacher", "the CGTP is the largest union")."""
    m = re.match(r"\s*(?:who|what)\s+(?:is|was|are|were)\s+(?:the\s+|a\s+|an\s+)?([^?]{2,60}?)\s*\??\s*$", text, re.I)
    if not m:
        return None
    head = re.escape(m.group(1).split()[-1])
    return re.compile(rf"\b{head}(?:['’]s)?(?:\s*,\s*(?:a|an|the|who|which)\b|\s+(?:is|was|are|were)\s+(?:a|an|the|one)\b)", re.I)


def rank_candidates(
    engine: Any,
    q: _Question,
    hits: Sequence[Hit],
    qvec: np.ndarray | None,
    weights: Sequence[float] = WEIGHTS,
    bias: float = BIAS,
) -> tuple[list[_Sentence], list[list[_Candidate]]]:
    """Every sentence of the hits, and the distinct answers (groups of candidates giving the
    same answer), most confident first; the calibration script calls this with trial weights."""
    sentences = _sentences(q, hits, _dense_scores(engine, qvec, hits))
    groups = _group(_candidates(q, sentences))
    for g in groups:
        docs = {c.sentence.hit.passage.doc_id for c in g}
        g[0].features = tuple(_features(g[0], q, len(docs)))
        g[0].confidence = _confidence(g[0].features, weights, bias)
    groups.sort(key=lambda g: (-g[0].score, -g[0].confidence))
    return sentences, groups


def answer_one(
    engine: Any,
    question: str,
    hits: Sequence[Hit],
    qvec: np.ndarray | None,
    min_score: float | None = None,
    answers: int = 1,
) -> Answer:
    """The answer to one question from its retrieved hits (see the module docstring)."""
    threshold = ABSTAIN_BELOW if min_score is None else float(min_score)
    q = _question(engine, question)
    locator = _locator(engine)
    if not hits:
        return Answer(question, None, None, 0.0, True, ())
    sentences, groups = rank_candidates(engine, q, hits, qvec)
    best = groups[0][0] if groups else None
    if best is None or best.confidence < threshold:
        excerpts = _closest(sentences, hits, set())
        conf = best.confidence if best is not None else 0.0
        return Answer(
            question,
            None,
            None,
            round(conf, 4),
            True,
            tuple(_source(s, locator, False, s.score) for s in excerpts),
        )

    def candidate(g: list[_Candidate]) -> Candidate:
        return Candidate(g[0].text, round(g[0].confidence, 4), tuple(_source(c, locator, True, c.score) for c in g))

    top = candidate(groups[0])
    cited = {c.sentence.hit.passage.pid for c in groups[0]}
    extra = _closest(sentences, hits, cited)
    sources = top.sources + tuple(_source(s, locator, False, s.score) for s in extra)
    candidates = tuple(candidate(g) for g in groups[: max(1, answers)])

    conflicts: tuple[Candidate, ...] = ()
    if best.kind in CONFLICT_KINDS:
        rivals = _rivals(groups, threshold)
        if rivals:
            conflicts = (top, *(candidate(g) for g in rivals[: MAX_CONFLICTS - 1]))
    return Answer(
        question=question,
        text=top.text,
        sentence=best.sentence.text,
        confidence=round(best.confidence, 4),
        abstained=False,
        sources=sources,
        candidates=candidates,
        conflicts=conflicts,
    )


def answer_questions(
    engine: Any,
    questions: list[str],
    k: int = 5,
    retriever: str = "hybrid",
    min_score: float | None = None,
    answers: int = 1,
    **_: Any,
) -> list[Answer]:
    """Answer each question from the top-k passages of `retriever`, in one batch.

    Questions are embedded together (one encoder call for the batch). A question that is
    empty gets an Answer with `error` set instead of stopping the others.
    """
    from .retrieve import check_question

    if min_score is not None and not 0.0 <= float(min_score) <= 1.0:
        raise QAError(f"--min-score must be between 0 and 1, not {min_score}")
    if answers < 1:
        raise QAError("--answers must be at least 1")
    cleaned: list[str | None] = []
    errors: dict[int, str] = {}
    for i, q in enumerate(questions):
        try:
            cleaned.append(check_question(q))
        except QAError as exc:
            cleaned.append(None)
            errors[i] = str(exc)
    valid = [q for q in cleaned if q is not None]
    hits_all = engine.search_many(valid, k=k, retriever=retriever) if valid else []
    try:
        qvecs = engine.searcher.embed_queries(valid) if valid else None
    except Exception:  # no encoder available (e.g. BM25-only use): answer without dense evidence
        qvecs = None
    out: list[Answer] = []
    j = 0
    for i, q in enumerate(cleaned):
        if q is None:
            out.append(Answer(questions[i], None, None, 0.0, True, (), error=errors[i]))
            continue
        qvec = None if qvecs is None else qvecs[j]
        out.append(answer_one(engine, q, hits_all[j], qvec, min_score=min_score, answers=answers))
        j += 1
    return out


