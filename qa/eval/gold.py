"""Gold question sets: read and check a JSONL file, and decide which passages are relevant.

One JSON object a line:
    id            str (or int)    unique in the file
    question      str             non-empty
    answers       [str]           acceptable answers; [] = the documents do not answer it
    evidence      str, optional   verbatim source text stating the answer
    doc           str, optional   the file the evidence is in (name or corpus-relative path)
    type          str, optional   a free label for per-type breakdowns (default "untyped")
    evidence_all  [{doc, evidence, answer}], optional   every source that answers, when several do

A row that names a `conversation` is a turn of a conversation (the follow-up section, kept
apart from the questions above: `GoldSet.turns`, never in `GoldSet.items`):
    conversation  str             the conversation's id; its rows, in file order, are its turns
    turn          int, optional   the turn's place (1 = the first question); checked against the file order
    full          str             the question written out in full, standalone (required after the first turn;
                                  the first turn's defaults to its question)
    plus id, question, answers, evidence, doc, type as above.

Relevance (documented in docs/evaluation.md). Texts are compared with whitespace collapsed
(no-break spaces and invisible characters included) and case folded. Each question has one
or more *evidence units*: the `evidence` (with `doc`) and each `evidence_all` item. A passage
satisfies a unit when it is in the unit's `doc` (if one is named) and
  1. it contains the whole evidence, or
  2. the evidence was cut by a passage boundary and the passage contains a prefix or a
     suffix of it holding at least half of its words (and at least 4), which also holds an
     answer string whenever the evidence holds one — so the part that states the answer is
     there, not just its lead-in;
  3. a unit with no evidence is satisfied by a passage containing its answer (or, for the
     question's own unit, any of `answers`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from qa.errors import UsageError
from qa.jsonl import jsonl_lines
from qa.records import Passage

_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
MIN_CUT_WORDS = 4


def normalize(text: str) -> str:
    """Collapse every run of whitespace (no-break spaces too) to one space, drop invisibles, fold case."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Evidence:
    """One source that answers the question."""

    text: str | None  # verbatim evidence, or None (match by answer strings)
    doc: str | None
    answers: tuple[str, ...]  # answer strings this source gives


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    answers: tuple[str, ...]
    type: str = "untyped"
    evidence: str | None = None
    doc: str | None = None
    evidence_all: tuple[Evidence, ...] = ()
    line: int = 0

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def units(self) -> tuple[Evidence, ...]:
        """The evidence units: each must be found for full recall (deduplicated)."""
        if not self.answerable:
            return ()
        units: list[Evidence] = []
        if self.evidence or not self.evidence_all:
            units.append(Evidence(self.evidence, self.doc, self.answers))
        for ev in self.evidence_all:
            if not any(u.text and ev.text and normalize(u.text) == normalize(ev.text) for u in units):
                units.append(ev)
        return tuple(units)


@dataclass(frozen=True)
class GoldTurn:
    """One turn of a gold conversation: the question as typed (in `item`) and written out in full."""

    item: GoldItem
    conversation: str
    turn: int  # 1 = the conversation's first question
    full: str

    @property
    def followup(self) -> bool:
        return self.turn > 1


@dataclass
class GoldSet:
    path: Path
    items: list[GoldItem] = field(default_factory=list)
    turns: list[GoldTurn] = field(default_factory=list)  # the follow-up section, apart from `items`

    def conversations(self) -> list[list[GoldTurn]]:
        """The turns grouped by conversation (first seen first), each in order."""
        groups: dict[str, list[GoldTurn]] = {}
        for t in self.turns:
            groups.setdefault(t.conversation, []).append(t)
        return list(groups.values())


# ------------------------------------------------------------------ loading


def _err(path: Path, line: int, message: str) -> UsageError:
    return UsageError(f"{path}:{line}: {message}")


def _str(obj: dict[str, Any], key: str, path: Path, line: int, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise _err(path, line, f"missing {key!r}")
        return None
    if not isinstance(value, str):
        raise _err(path, line, f"{key!r} must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise _err(path, line, f"{key!r} is empty")
    return value


def parse_item(obj: Any, path: Path, line: int) -> GoldItem:
    """One gold line, checked; UsageError('<file>:<line>: …') says what is wrong."""
    if not isinstance(obj, dict):
        raise _err(path, line, "expected a JSON object")
    raw_id = obj.get("id")
    if raw_id is None or isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or str(raw_id).strip() == "":
        raise _err(path, line, "missing 'id' (a string or integer)")
    question = _str(obj, "question", path, line, required=True)
    answers = obj.get("answers")
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        raise _err(path, line, "'answers' must be a list of non-empty strings ([] for questions the documents do not answer)")
    evidence = _str(obj, "evidence", path, line)
    doc = _str(obj, "doc", path, line)
    kind = _str(obj, "type", path, line) or "untyped"
    all_raw = obj.get("evidence_all") or []
    if not isinstance(all_raw, list):
        raise _err(path, line, "'evidence_all' must be a list of {doc, evidence, answer} objects")
    units = []
    for n, ev in enumerate(all_raw, start=1):
        if not isinstance(ev, dict):
            raise _err(path, line, f"evidence_all item {n} must be an object")
        text = _str(ev, "evidence", path, line)
        ans = _str(ev, "answer", path, line)
        if not text and not ans:
            raise _err(path, line, f"evidence_all item {n} needs 'evidence' or 'answer'")
        units.append(Evidence(text or None, _str(ev, "doc", path, line) or None, (ans,) if ans else tuple(answers)))
    if not answers and (units or evidence):
        pass  # evidence on an unanswerable question is only documentation
    return GoldItem(
        id=str(raw_id).strip(),
        question=question or "",
        answers=tuple(answers),
        type=kind.strip() or "untyped",
        evidence=evidence or None,
        doc=doc or None,
        evidence_all=tuple(units),
        line=line,
    )


def parse_turn(obj: dict[str, Any], path: Path, line: int, place: int) -> GoldTurn:
    """A conversation row, checked; `place` is its place among its conversation's rows so far (1 = first)."""
    conversation = obj.get("conversation")
    if not isinstance(conversation, str) or not conversation.strip():
        got = type(conversation).__name__ if not isinstance(conversation, str) else "an empty string"
        raise _err(path, line, f"'conversation' must be a non-empty string (the conversation's id), not {got}")
    item = parse_item(obj, path, line)
    turn = obj.get("turn", place)
    if isinstance(turn, bool) or not isinstance(turn, int) or turn != place:
        raise _err(path, line, f"'turn' is {turn!r} but this is question {place} of conversation {conversation!r} in the file")
    full = _str(obj, "full", path, line, required=place > 1)
    if full is not None and not full.strip():
        raise _err(path, line, "'full' is empty")
    return GoldTurn(item, conversation.strip(), place, full or item.question)


def load_gold(path: str | Path) -> GoldSet:
    """Read and validate a gold JSONL file (blank lines allowed; ids unique)."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"no such gold file: {path}")
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not a gold JSONL file")
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    gold = GoldSet(path)
    seen: dict[str, int] = {}
    for n, line in enumerate(jsonl_lines(raw), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            msg = getattr(exc, "msg", str(exc))
            raise _err(path, n, f"not valid JSON ({msg})") from None
        if isinstance(obj, dict) and "conversation" in obj:
            name = obj["conversation"].strip() if isinstance(obj["conversation"], str) else None
            turn = parse_turn(obj, path, n, 1 + sum(t.conversation == name for t in gold.turns))
            item = turn.item
        else:
            turn, item = None, parse_item(obj, path, n)
        if item.id in seen:
            raise _err(path, n, f"duplicate id {item.id!r} (first on line {seen[item.id]})")
        seen[item.id] = n
        if turn is not None:
            gold.turns.append(turn)
        else:
            gold.items.append(item)
    if not gold.items and not gold.turns:
        raise UsageError(f"{path}: no questions in the gold file")
    return gold


# ------------------------------------------------------------------ relevance


def _doc_matches(passage_path: str, doc: str | None) -> bool:
    if not doc:
        return True
    p = PurePosixPath(passage_path)
    d = PurePosixPath(doc.replace("\\", "/"))
    return p == d or p.name == d.name and len(d.parts) == 1 or str(p).endswith("/" + str(d))


def missing_docs(items: Sequence[GoldItem], paths: Iterable[str]) -> dict[str, int]:
    """{doc a gold item names: how many items name it} for the docs no indexed file matches:
    a typo or a file left out of the corpus, which would otherwise score as a retrieval miss."""
    held = set(paths)
    counts: dict[str, int] = {}
    for item in items:
        for doc in {u.doc for u in item.units if u.doc}:
            if not any(_doc_matches(p, doc) for p in held):
                counts[doc] = counts.get(doc, 0) + 1
    return counts


def _longest_run(words: list[str], hay: str, prefix: bool) -> int:
    """The most words of a prefix (or suffix) of `words` that `hay` contains (binary search)."""
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        part = words[:mid] if prefix else words[-mid:]
        if " ".join(part) in hay:
            lo = mid
        else:
            hi = mid - 1
    return lo


def satisfies(passage_text: str, passage_path: str, unit: Evidence) -> bool:
    """Does a passage hold this evidence unit (see the module docstring for the rule)?"""
    if not _doc_matches(passage_path, unit.doc):
        return False
    hay = normalize(passage_text)
    answers = [normalize(a) for a in unit.answers if a.strip()]
    if not unit.text:
        return any(a in hay for a in answers)
    ev = normalize(unit.text)
    if ev in hay:
        return True
    words = ev.split()
    need = max(MIN_CUT_WORDS, (len(words) + 1) // 2)
    if len(words) < need:
        return False
    in_evidence = [a for a in answers if a in ev]
    for prefix in (True, False):
        n = _longest_run(words, hay, prefix)
        if n >= need:
            part = " ".join(words[:n] if prefix else words[-n:])
            if not in_evidence or any(a in part for a in in_evidence):
                return True
    return False


def unit_ids(item: GoldItem) -> list[str]:
    return [f"{item.id}.e{j}" for j in range(len(item.units))]


def relevant_units(item: GoldItem, passage: Passage) -> list[str]:
    """Ids of the evidence units this passage satisfies (item.id + ".e<j>")."""
    return [uid for uid, unit in zip(unit_ids(item), item.units, strict=True) if satisfies(passage.text, passage.path, unit)]


def collapse_ranking(item: GoldItem, passages: list[Passage]) -> list[str]:
    """The ranking as metric ids: a passage that first satisfies a unit becomes that unit's id,
    any other passage keeps its own id. So a fact repeated in two overlapping passages counts
    once, and the standard ranking metrics (over unit ids) apply unchanged."""
    found: set[str] = set()
    out = []
    for p in passages:
        new = [u for u in relevant_units(item, p) if u not in found]
        if new:
            found.add(new[0])
            out.append(new[0])
        else:
            out.append(p.pid)
    return out
