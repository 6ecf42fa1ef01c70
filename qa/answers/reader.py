"""The extractive reader: a MiniLM span model trained by this project (tools/train_reader.py).

Why a trained model and not rules: telling "this passage is about the question" from "this
passage answers it" is what hand rules failed at on questions nobody tuned them on (issue 13).

The model reads a question with each retrieved passage (long passages in overlapping windows)
and gives every passage token a start and an end logit; token 0 ([CLS]) of each window is the
"no answer" position. It was trained with *shared normalisation*: one softmax over all tokens
of all windows of a question, so logits compare across passages and the null score means
"none of these passages answers it". The same window cutting and span decoding serve training
and inference, so what was measured is what runs.

At question time only onnxruntime, tokenizers and numpy are imported (no torch).
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import QAError

MODEL_DIR = Path(__file__).resolve().parents[1] / "models" / "reader"
MODEL_FILE = MODEL_DIR / "reader-int8.onnx"
CALIBRATION_FILE = MODEL_DIR / "calibration.json"

MAX_LENGTH = 256  # tokens per window (question + passage + 3 specials)
STRIDE = 96  # tokens shared by two consecutive windows of one long passage
MAX_QUESTION_TOKENS = 64
MAX_ANSWER_TOKENS = 30
TOP_TOKENS = 20  # start/end candidates kept per window when decoding


@dataclass(frozen=True)
class Window:
    """One model input: the question and a stretch of one passage."""

    passage: int  # index into the passages given
    ids: tuple[int, ...]
    type_ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]  # char offsets into the passage text, per token
    ctx_start: int  # first passage token
    ctx_end: int  # one past the last passage token
    # per token: may an answer start / end here (not inside a word or a number such as "5,822")
    may_start: tuple[bool, ...]
    may_end: tuple[bool, ...]


@dataclass(frozen=True)
class Span:
    """A candidate answer: passage[passage].text[start:end], with its reader score."""

    passage: int
    start: int
    end: int
    score: float  # start logit + end logit (comparable across the passages of one question)


@dataclass(frozen=True)
class Reading:
    """What the reader found for one question over its passages."""

    spans: tuple[Span, ...]  # best first, at most one per (passage, start, end)
    null_score: float  # log-sum-exp of the [CLS] start logits + the same of the end logits
    log_z: float  # log of the shared normaliser (start and end), to turn scores into probabilities

    @property
    def margin(self) -> float:
        """How far the best span beats "no answer" (−inf when there is no span)."""
        return (self.spans[0].score - self.null_score) if self.spans else -math.inf

    def probability(self, span: Span) -> float:
        return float(math.exp(min(0.0, span.score - self.log_z)))

    @property
    def null_probability(self) -> float:
        return float(math.exp(min(0.0, self.null_score - self.log_z)))


def load_tokenizer() -> Any:
    """The bundled MiniLM WordPiece tokenizer, set up for (question, passage) windows."""
    from tokenizers import Tokenizer

    from qa.index.encoders import bundled_model_dir

    tok = Tokenizer.from_file(str(Path(bundled_model_dir()) / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


def _clip_question(tok: Any, question: str) -> str:
    enc = tok.encode(question, add_special_tokens=False)
    if len(enc.ids) <= MAX_QUESTION_TOKENS:
        return question
    return question[: enc.offsets[MAX_QUESTION_TOKENS - 1][1]]


_OPENERS = frozenset("([{\"'“‘«-–—/")
_CLOSERS = frozenset(")]}\"'”’»-–—/")


def word_bounds(text: str, offsets: Sequence[tuple[int, int]]) -> tuple[tuple[bool, ...], tuple[bool, ...]]:
    """Which tokens may start and end an answer: an answer is whole words. WordPiece cuts
    "5,822" into "5" "," "822", and a span "822 metres" or "5" is a wrong answer (and, as a
    value, was compared and merged as one). A start follows a space, an opening mark or a dash; an end
    precedes a space, a closing mark, or punctuation that does not run on into more letters or digits."""
    n = len(text)
    starts, ends = [], []
    for a, b in offsets:
        if a == b:  # special tokens
            starts.append(False)
            ends.append(False)
            continue
        starts.append(a == 0 or text[a - 1].isspace() or text[a - 1] in _OPENERS)
        after = text[b] if b < n else ""
        ends.append(
            not after
            or after.isspace()
            or after in _CLOSERS
            or (after in ".,;:!?" and not (b + 1 < n and text[b + 1].isalnum()))
        )
    return tuple(starts), tuple(ends)


def windows_for(tok: Any, question: str, passages: Sequence[str], max_length: int = MAX_LENGTH, stride: int = STRIDE) -> list[Window]:
    """Every (question, passage window) input, in passage order."""
    question = _clip_question(tok, question)
    tok.enable_truncation(max_length=max_length, stride=stride, strategy="only_second")
    out: list[Window] = []
    try:
        for i, text in enumerate(passages):
            if not text.strip():
                continue
            first = tok.encode(question, text)
            for enc in [first, *first.overflowing]:
                seq = enc.sequence_ids
                ctx = [t for t, s in enumerate(seq) if s == 1]
                if not ctx:
                    continue
                offsets = tuple(tuple(o) for o in enc.offsets)
                # offsets outside the passage (question, specials) never start or end an answer
                may_start, may_end = word_bounds(text, [o if s == 1 else (0, 0) for o, s in zip(offsets, seq)])  # type: ignore[misc]
                out.append(
                    Window(
                        passage=i,
                        ids=tuple(enc.ids),
                        type_ids=tuple(enc.type_ids),
                        offsets=offsets,  # type: ignore[arg-type]
                        ctx_start=ctx[0],
                        ctx_end=ctx[-1] + 1,
                        may_start=may_start,
                        may_end=may_end,
                    )
                )
    finally:
        tok.no_truncation()
    return out


def pad_batch(windows: Sequence[Window]) -> dict[str, np.ndarray]:
    """input_ids / attention_mask / token_type_ids, padded to the longest window."""
    width = max(len(w.ids) for w in windows)
    ids = np.zeros((len(windows), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for r, w in enumerate(windows):
        n = len(w.ids)
        ids[r, :n] = w.ids
        types[r, :n] = w.type_ids
        mask[r, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def _logsumexp(values: np.ndarray) -> float:
    m = float(np.max(values))
    return m + math.log(float(np.sum(np.exp(values - m))))


def _best_tokens(scores: np.ndarray, allowed: Sequence[bool], top: int) -> np.ndarray:
    """The `top` best positions among those allowed."""
    idx = np.flatnonzero(np.asarray(allowed, dtype=bool))
    return idx[np.argsort(-scores[idx], kind="stable")[:top]]


def decode(
    windows: Sequence[Window],
    start_logits: Sequence[np.ndarray],
    end_logits: Sequence[np.ndarray],
    max_answer_tokens: int = MAX_ANSWER_TOKENS,
    top: int = TOP_TOKENS,
) -> Reading:
    """The best spans over all windows of one question, and the shared null score.

    A span is start ≤ end within one window's passage tokens, at most `max_answer_tokens`
    long; the same passage stretch seen in two overlapping windows keeps its best score.
    """
    best: dict[tuple[int, int, int], float] = {}
    cls_s, cls_e, all_s, all_e = [], [], [], []
    for w, s, e in zip(windows, start_logits, end_logits, strict=True):
        s = np.asarray(s[: len(w.ids)], dtype=np.float64)
        e = np.asarray(e[: len(w.ids)], dtype=np.float64)
        cls_s.append(s[0])
        cls_e.append(e[0])
        all_s.append(np.concatenate([[s[0]], s[w.ctx_start : w.ctx_end]]))
        all_e.append(np.concatenate([[e[0]], e[w.ctx_start : w.ctx_end]]))
        cs, ce = s[w.ctx_start : w.ctx_end], e[w.ctx_start : w.ctx_end]
        starts = _best_tokens(cs, w.may_start[w.ctx_start : w.ctx_end], top)
        ends = _best_tokens(ce, w.may_end[w.ctx_start : w.ctx_end], top)
        for a in starts:
            for b in ends:
                if b < a or b - a + 1 > max_answer_tokens:
                    continue
                ta, tb = w.ctx_start + int(a), w.ctx_start + int(b)
                key = (w.passage, w.offsets[ta][0], w.offsets[tb][1])
                score = float(cs[a] + ce[b])
                if score > best.get(key, -math.inf):
                    best[key] = score
    if not windows:
        return Reading(spans=(), null_score=0.0, log_z=0.0)
    spans = sorted((Span(p, a, b, sc) for (p, a, b), sc in best.items()), key=lambda x: (-x.score, x.passage, x.start, x.end))
    null = _logsumexp(np.array(cls_s)) + _logsumexp(np.array(cls_e))
    log_z = _logsumexp(np.concatenate(all_s)) + _logsumexp(np.concatenate(all_e))
    return Reading(spans=tuple(spans), null_score=null, log_z=log_z)


@dataclass
class Reader:
    """The shipped int8 ONNX reader on onnxruntime."""

    sessions: tuple[Any, ...]  # one single-threaded session per core, reading windows side by side
    tokenizer: Any
    input_names: tuple[str, ...]
    calibration: dict[str, Any]
    # one window per run: int8 dynamic quantisation scales activations per batch, so padding rows
    # would change a window's logits (answers would depend on what else is read); also fastest here
    batch_size: int = 1

    @classmethod
    def load(cls, model_file: str | Path | None = None, threads: int | None = None, calibrated: bool = True) -> Reader:
        """The model at `model_file` (default: $QA_READER_MODEL, else the shipped one) and the
        calibration beside it; `calibrated=False` is for a candidate not yet calibrated
        (tools/train_reader.py validate), whose confidence and abstention are then undefined.
        `threads` is the number of single-threaded sessions that read windows side by side
        (default: one per core); it changes speed only, never the logits."""
        from qa.index.encoders.onnx_backend import cpu_session, default_threads

        path = Path(model_file or os.environ.get("QA_READER_MODEL") or MODEL_FILE)
        if not path.is_file():
            raise QAError(f"the reader model is missing: {path} (reinstall qa, or retrain it: python tools/train_reader.py)")
        # Why one-thread sessions side by side: a 256-token window is too small to keep two
        # threads of one run busy; two windows at once, one per core, read 1.9x as many windows
        # per second here (29 -> 15 ms per window, stop 25) with identical logits.
        try:
            sessions = tuple(cpu_session(path, 1) for _ in range(max(1, threads or default_threads())))
        except Exception as exc:  # onnxruntime raises its own exception types for a damaged file
            raise QAError(f"the reader model at {path} cannot be loaded ({type(exc).__name__}): reinstall qa or retrain it") from None
        calibration = load_calibration(path.parent / CALIBRATION_FILE.name) if calibrated else {}
        names = tuple(i.name for i in sessions[0].get_inputs())
        return cls(sessions=sessions, tokenizer=load_tokenizer(), input_names=names, calibration=calibration)

    def logits(self, windows: Sequence[Window]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Start and end logits of each window (windows batched by length)."""
        starts: list[np.ndarray] = [np.empty(0)] * len(windows)
        ends: list[np.ndarray] = [np.empty(0)] * len(windows)
        from qa.index.encoders import longest_first

        groups = longest_first([len(w.ids) for w in windows], self.batch_size)

        def run(lane: int) -> None:  # every len(sessions)-th group, on this lane's own session
            for group in groups[lane :: len(self.sessions)]:
                feeds = pad_batch([windows[i] for i in group])
                s, e = self.sessions[lane].run(None, {k: v for k, v in feeds.items() if k in self.input_names})[:2]
                for row, i in enumerate(group):
                    starts[i], ends[i] = s[row], e[row]

        lanes = min(len(self.sessions), len(groups))
        if lanes <= 1:
            run(0)
        else:  # onnxruntime releases the GIL while it runs
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(lanes) as pool:
                list(pool.map(run, range(lanes)))
        return starts, ends

    def read(self, question: str, passages: Sequence[str]) -> Reading:
        return self.read_many([question], [passages])[0]

    def read_many(self, questions: Sequence[str], passages: Sequence[Sequence[str]]) -> list[Reading]:
        """Each question over its own passages; all windows of all questions in one run."""
        per_q = [windows_for(self.tokenizer, q, ps) for q, ps in zip(questions, passages, strict=True)]
        flat = [w for ws in per_q for w in ws]
        if not flat:
            return [decode([], [], []) for _ in questions]
        starts, ends = self.logits(flat)
        out, at = [], 0
        for ws in per_q:
            out.append(decode(ws, starts[at : at + len(ws)], ends[at : at + len(ws)]))
            at += len(ws)
        return out


def load_calibration(path: Path) -> dict[str, Any]:
    """The abstention margin and confidence model fitted on the validation articles."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QAError(f"the reader calibration is missing: {path} (reinstall qa, or retrain: python tools/train_reader.py)") from None
    except (OSError, ValueError) as exc:
        raise QAError(f"the reader calibration {path} is damaged ({exc}): reinstall qa or retrain it") from None
    if not isinstance(data, dict) or not isinstance(data.get("weights"), list):
        raise QAError(f"the reader calibration {path} is damaged (no weights): reinstall qa or retrain it")
    return data


LABELS = ("high", "medium")


def label_cutoffs() -> dict[str, float | None] | None:
    """The confidence from which an answer is called "high" / "medium" (None: that word is never
    earned), measured on the validation articles by tools/confidence_labels.py and kept in the
    active reader's calibration.json; None when it holds no measurement (a reader calibrated
    since), and then the confidence is shown as a number without a word."""
    path = Path(os.environ.get("QA_READER_MODEL") or MODEL_FILE).parent / CALIBRATION_FILE.name
    return _label_cutoffs(str(path))


@functools.lru_cache(maxsize=8)
def _label_cutoffs(path: str) -> dict[str, float | None] | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    labels = data.get("labels") if isinstance(data, dict) else None
    if not isinstance(labels, dict):
        return None
    return {name: float(v) if isinstance(v := labels.get(name), (int, float)) else None for name in LABELS}
