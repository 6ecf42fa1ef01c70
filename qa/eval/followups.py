"""Follow-up questions made from SQuAD, to tune and measure `qa.answers.followup` honestly.

No public set of follow-ups exists on this machine, so one is made the same way from any
SQuAD-format file (the rule is general and written down in docs/evaluation.md):

- take two consecutive questions of one paragraph, q1 then q2;
- find in q2 what it shares with q1: q1's (first) answer standing in q2, else a capitalised
  name that stands in both questions (not as q2's first word);
- write q2 again with that mention replaced by the pronoun a person would use: "he"/"she"
  when the paragraph refers back to it with that pronoun in the 200 characters after it first
  stands there, else "it" (possessive "X's" → "his"/"her"/"its"; "him"/"her" after a verb or
  preposition; a leading "the" goes with the mention; "the X" or "of X" followed by a lowercase
  word is left out, as X may modify a noun there — "the Princess Elizabeth station" — which
  loses some usable pairs whose next word is a verb).

The conversation is (q1, rewritten q2); the reference is q2's paragraph and answers. Pairs
whose q2 would keep no word of its own, or names the mention twice, are left out.

Sets: `train` — SQuAD v1.1 *train* articles (a seeded sample; the rules are tuned here);
`test` — the SQuAD dev test-split articles (qa.eval.squad_split; reported only). Each set's
corpus is all paragraphs of its articles, indexed as any benchmark is (qa.eval.public).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import UsageError
from qa.eval import metrics as M
from qa.eval.public import Benchmark, make_document

SETS = ("train", "test")
TRAIN_FILE = "squad-train-v1.1.json"
GENDER_WINDOW = 200  # characters after a name's first place where "he"/"she" says it is a person
FORMS = {"he": ("he", "him", "his"), "she": ("she", "her", "her"), "it": ("it", "it", "its")}
_SUBJECT_BEFORE = {
    "who", "what", "when", "where", "why", "how", "which", "whom", "whose", "is", "are", "was", "were", "do", "does",
    "did", "has", "have", "had", "can", "could", "will", "would", "should", "may", "might", "and", "that",
}


_MODIFIED_AFTER = {"the", "a", "an", "of", "for", "to", "in", "on", "at", "by", "with", "from", "about"}


@dataclass(frozen=True)
class FollowUp:
    """One made conversation: q1, then q2 written as a follow-up."""

    qid: str  # q2's id
    first: str  # q1, asked as it is
    followup: str  # q2 with the mention replaced by a pronoun
    full: str  # q2 as written
    mention: str  # what the pronoun stands for
    kind: str  # "answer" (q1's answer) or "name" (a name both questions use)
    pid: str  # q2's paragraph (the relevant document)
    answers: tuple[str, ...]


def pronoun_for(mention: str, paragraph: str) -> str:
    """"he"/"she" when the paragraph refers back to the mention so, else "it"."""
    at = paragraph.find(mention)
    if at < 0:
        return "it"
    window = re.findall(r"[a-z]+", paragraph[at + len(mention) : at + len(mention) + GENDER_WINDOW].lower())
    he = sum(w in ("he", "his", "him", "himself") for w in window)
    she = sum(w in ("she", "her", "hers", "herself") for w in window)
    if he == she == 0:
        return "it"
    return "he" if he >= she else "she"


def rewrite(question: str, mention: str, pronoun: str) -> str | None:
    """`question` with its one `mention` replaced by `pronoun` in the right form (None: cannot)."""
    pattern = re.compile(r"(?<![\w])(?:(the|The)\s+)?" + re.escape(mention) + r"(['’]s\b|['’](?!\w))?(?![\w])")
    found = list(pattern.finditer(question))
    if len(found) != 1:
        return None
    m = found[0]
    subject, obj, possessive = FORMS[pronoun]
    before = question[: m.start()].split()
    after = question[m.end() :].split()
    if not m.group(2) and after and after[0][:1].islower() and after[0].casefold().strip("?,.") not in _FUNCTION_WORDS and (m.group(1) or (before and before[-1].casefold() in _MODIFIED_AFTER)):
        return None  # "the Princess Elizabeth station": the name modifies a noun, no pronoun can stand there
    if m.group(2):
        word = possessive
    elif not before or before[-1].casefold().strip(",") in _SUBJECT_BEFORE:
        word = subject
    else:
        word = obj
    if m.start() == 0:
        word = word.capitalize()
    out = question[: m.start()] + word + question[m.end() :]
    if not _own_words(out):
        return None
    return out


_FUNCTION_WORDS = set(
    "a an the of in on at to for from by with about as into over under after before since until during between "
    "and or but so not no any some all each much many more most who whom whose what which when where why how "
    "is are was were be been being do does did has have had can could will would shall should may might must "
    "it its he him his she her they them their this that these those there then".split()
)


def _own_words(text: str) -> list[str]:
    """Words of a question other than function words (the builder's own list, fixed)."""
    return [w for w in re.findall(r"\w+", text) if w.casefold() not in _FUNCTION_WORDS and (len(w) > 1 or w.isdigit())]


_CAPITALISED = re.compile(r"[A-Z][\w-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w-]*)*")


def names_in(question: str) -> list[str]:
    """Capitalised runs of a question, its first word left out — the builder's own rule, kept
    apart from the method it measures (qa.answers.followup), so tuning that cannot change the set."""
    out = []
    for m in _CAPITALISED.finditer(question):
        if m.start() == 0:
            rest = m.group(0).split(maxsplit=1)
            if len(rest) < 2:
                continue
            out.append(rest[1])
        else:
            out.append(m.group(0))
    return out


def _mention(q1: str, q1_answer: str | None, q2: str) -> tuple[str, str] | None:
    if q1_answer:
        a = q1_answer.strip().strip(".,;")
        if a and not re.fullmatch(r"[\d.,%$\s]+", a) and len(a.split()) <= 6 and _own_words(a) and re.search(r"(?<!\w)" + re.escape(a) + r"(?!\w)", q2):
            return a, "answer"
    for n in names_in(q2):
        if q2.startswith(n):
            continue
        if re.search(r"(?<!\w)" + re.escape(n) + r"(?!\w)", q1):
            return n, "name"
    return None


def make_followups(paragraphs: Sequence[dict[str, Any]]) -> list[FollowUp]:
    """Follow-ups from paragraphs given as {"pid", "context", "qas": [{"id", "question", "answers": [str]}]}."""
    out = []
    for p in paragraphs:
        qas = p["qas"]
        for a, b in zip(qas, qas[1:]):
            if not b["answers"]:
                continue
            found = _mention(a["question"], a["answers"][0] if a["answers"] else None, b["question"])
            if found is None:
                continue
            mention, kind = found
            text = rewrite(b["question"], mention, pronoun_for(mention, p["context"]))
            if text is None:
                continue
            out.append(FollowUp(b["id"], a["question"], text, b["question"], mention, kind, p["pid"], tuple(b["answers"])))
    return out


# ------------------------------------------------------------------ the two sets


def _train_paragraphs(bench_dir: Path, articles: int, seed: int) -> tuple[Path, list[dict[str, Any]], list[tuple[str, str, str]]]:
    path = bench_dir / TRAIN_FILE
    if not path.is_file():
        raise UsageError(f"SQuAD train file not found: {path} (set --bench-dir or QA_BENCH_DIR)")
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    chosen = sorted(random.Random(seed).sample(range(len(data)), min(articles, len(data))))
    paragraphs, docs = [], []
    for ai in chosen:
        art = data[ai]
        for pi, p in enumerate(art["paragraphs"]):
            pid = f"t{ai:03d}__{pi:03d}"
            qas = [{"id": q["id"], "question": q["question"], "answers": [x["text"] for x in q.get("answers") or []]} for q in p["qas"]]
            paragraphs.append({"pid": pid, "context": p["context"], "qas": qas})
            docs.append((pid, art["title"].replace("_", " "), p["context"]))
    return path, paragraphs, docs


def _test_paragraphs(bench_dir: Path) -> tuple[Path, list[dict[str, Any]], list[tuple[str, str, str]]]:
    from qa.eval import squad_split
    from qa.eval.public import SQUAD_PARAGRAPHS

    data = squad_split.load(bench_dir)
    by_pid: dict[str, list[dict[str, Any]]] = {}
    for q in data.questions("test", "1.1"):
        by_pid.setdefault(q["pid"], []).append({"id": q["id"], "question": q["question"], "answers": list(q["answers"])})
    paragraphs, docs = [], []
    for p in data.paragraphs("test"):
        paragraphs.append({"pid": p["pid"], "context": p["text"], "qas": by_pid.get(p["pid"], [])})
        docs.append((p["pid"], p["title"].replace("_", " "), p["text"]))
    return (squad_split.bench_dir(bench_dir) / SQUAD_PARAGRAPHS.format(version="1.1")).resolve(), paragraphs, docs


def load_followups(bench_dir: Path | None = None, which: str = "train", sample: int = 300, seed: int = 0, articles: int = 20) -> tuple[Benchmark, list[FollowUp]]:
    """A follow-up set and the benchmark (corpus, references) it is asked over."""
    from qa.eval import squad_split

    if which not in SETS:
        raise UsageError(f"unknown follow-up set {which!r}: choose one of {', '.join(SETS)}")
    folder = squad_split.bench_dir(bench_dir)
    if which == "train":
        source, paragraphs, docs = _train_paragraphs(folder, articles, seed)
        key = f"followups-train articles={articles} seed={seed}"
    else:
        source, paragraphs, docs = _test_paragraphs(folder)
        key = "split=test"  # the same corpus as `qa eval --squad` on the test split: one cached index
    made = make_followups(paragraphs)
    if sample and sample < len(made):
        made = [made[i] for i in sorted(random.Random(seed).sample(range(len(made)), sample))]
    bench = Benchmark(
        name=f"followups-{which}" if which == "train" else "squad-v1.1-dev-test",
        source=source.resolve(),
        documents=[make_document(pid, title, text) for pid, title, text in docs],
        queries={f.qid: f.full for f in made},
        qrels={f.qid: {f.pid} for f in made},
        answers={f.qid: list(f.answers) for f in made},
        key=key,
    )
    return bench, made


# ------------------------------------------------------------------ the run

Progress = Callable[[str, int, int], None]


def _score(answers: Sequence[Any], items: Sequence[FollowUp], threshold: float) -> dict[str, float]:
    hit, f1, right, given = [], [], [], []
    for a, f in zip(answers, items, strict=True):
        top = a.sources[0].passage.path if a.sources else None
        hit.append(float(top == f.pid))
        f1.append(M.token_f1(a.text, list(f.answers)) if a.text else 0.0)
        ok = not a.abstained and a.confidence >= threshold
        given.append(float(ok))
        right.append(float(ok and M.token_f1(a.text, list(f.answers)) >= 0.5))
    return {
        "passage_hit@1": round(M.mean(hit), 4),
        "best_answer_f1": round(100 * M.mean(f1), 2),
        "answered_right": round(M.mean(right), 4),
        "answered": round(M.mean(given), 4),
    }


def run_followups(engine: Any, items: Sequence[FollowUp], progress: Progress | None = None, batch: int = 32) -> dict[str, Any]:
    """The follow-ups asked three ways — in conversation after q1, alone, and written out in
    full — plus the full q2 asked after q1 (does a question that stands alone keep its answer?)."""
    from qa.answers.answer import abstain_below
    from qa.conversation import answer_conversations

    threshold = abstain_below()
    modes: dict[str, list[Any]] = {"conversation": [], "alone": [], "full": [], "full_after_first": []}
    started = time.perf_counter()
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        conv = answer_conversations(engine, [[f.first, f.followup] for f in chunk], min_score=0.0)
        modes["conversation"] += [c[1] for c in conv]
        modes["alone"] += engine.ask_many([f.followup for f in chunk], min_score=0.0)
        modes["full"] += engine.ask_many([f.full for f in chunk], min_score=0.0)
        modes["full_after_first"] += [c[1] for c in answer_conversations(engine, [[f.first, f.full] for f in chunk], min_score=0.0)]
        if progress:
            progress("follow-ups", min(start + batch, len(items)), len(items))
    out: dict[str, Any] = {"questions": len(items), "kinds": {k: sum(f.kind == k for f in items) for k in ("answer", "name")}}
    for mode, answers in modes.items():
        out[mode] = _score(answers, items, threshold)
    out["taken_as_followup"] = round(M.mean(float(a.standalone_question is not None) for a in modes["conversation"]), 4)
    out["full_taken_as_followup"] = round(M.mean(float(a.standalone_question is not None) for a in modes["full_after_first"]), 4)
    out["full_unchanged"] = round(
        M.mean(float((a.text, a.abstained) == (b.text, b.abstained)) for a, b in zip(modes["full"], modes["full_after_first"], strict=True)), 4
    )
    out["resolved_to_mention"] = round(
        M.mean(float(f.mention.casefold() in (a.standalone_question or "").casefold()) for a, f in zip(modes["conversation"], items, strict=True)), 4
    )
    out["seconds"] = round(time.perf_counter() - started, 2)
    out["examples"] = [
        {"first": f.first, "followup": f.followup, "full": f.full, "understood": a.standalone_question, "context": list(a.context)}
        for f, a in list(zip(items, modes["conversation"], strict=True))[:10]
    ]
    return out
