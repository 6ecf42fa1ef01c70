"""Follow-up questions: what a question means after the earlier turns of a conversation.

No language model runs here (none runs offline on this machine), so a follow-up is taken the
way a careful reader of a chat log would take it, by a few general rules measured on public
data (docs/evaluation.md, "Follow-up questions"):

1. **Does it depend on the conversation?** A question depends on the earlier turns when it
   starts with a connective ("and", "what about", "how about", "but", "so"), when it has no
   content word of its own ("Why?", "Since when?", "How many?"), or when a third-person pronoun
   or a demonstrative stands in it with nothing earlier in the question it could point back to
   ("When did *she* join?" — but not "When did Boluarte say *she* would resign?"), or when
   "there"/"then" stand for a place or time. Anything else stands alone and is answered
   exactly as it would be on its own.
2. **What does it point back to?** The referent is found in the turn it follows: its answer
   when the answer can be what the pronoun names (a name for "she", not a date or a number),
   else the names in that turn's question, else the question's main words.
3. **What is read and searched.** The reader reads the follow-up with the referent filled in
   ("When did Priya Raman join the company?"); a question with only a question word takes the
   earlier question's words ("Why?" after "When did X resign?" → "Why did X resign?"); an
   ellipsis ("And in 2019?") replaces the like part of the earlier question. Retrieval searches
   that question plus the earlier turn's salient words (its answer and content words), and
   among equal scores prefers the document the earlier answer came from.

Everything here is a pure function of the question and the earlier turns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Turn", "Understood", "understand", "depends_on_context", "content_words", "names"]

# ---------------------------------------------------------------------------------- word lists

WH = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}
AUX = {
    "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done", "has", "have", "had",
    "having", "can", "could", "will", "would", "shall", "should", "may", "might", "must",
}
FUNCTION = {
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "about", "as", "into", "onto",
    "over", "under", "after", "before", "since", "until", "during", "between", "against", "through", "than",
    "and", "or", "but", "so", "also", "not", "no", "any", "some", "all", "each", "every", "much", "many", "more",
    "most", "long", "often", "far", "old", "else", "other", "own", "same", "such", "very", "just", "only",
    "there", "then", "here", "now", "ever", "still", "yet", "if", "whether", "kind", "type", "one", "ones",
    "i", "me", "my", "we", "us", "our", "you", "your", "about", "happen", "happened", "happens",
}
PERSONAL = {"he", "she", "him", "her", "his", "hers", "himself", "herself"}
PLURAL = {"they", "them", "their", "theirs", "themselves"}
NEUTER = {"it", "its", "itself"}
DEMONSTRATIVE = {"this", "that", "these", "those"}
POSSESSIVE = {"his", "its", "their", "hers", "theirs"}
PRONOUNS = PERSONAL | PLURAL | NEUTER
STOP = WH | AUX | FUNCTION | PRONOUNS | DEMONSTRATIVE
CONNECTIVES = ("what about", "how about", "and what about", "and how about", "and", "but", "so", "also", "then")
BE = {"is", "are", "was", "were", "be", "been"}
MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}

_TOKEN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
_NAME = re.compile(r"\b(?:[A-Z][\w’'.-]*)(?:\s+(?:(?:of|de|del|la|von|van|the|and|y)\s+)?[A-Z][\w’'.-]*)*")
_NUMBERISH = re.compile(r"\d")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")

MAX_CONTEXT_WORDS = 8  # the earlier turn's words added to a search (its answer first)


@dataclass(frozen=True)
class Turn:
    """One earlier turn: what was asked, what it was read as, and what it found."""

    question: str  # as typed
    standalone: str  # as it was read (the question itself when it stood alone)
    answer: str | None = None  # the answer's words; None when nothing was found
    doc_id: str | None = None  # the document the answer came from


@dataclass(frozen=True)
class Understood:
    """A question as the conversation makes it: what the reader reads and what is searched."""

    question: str  # as typed
    standalone: str  # what the reader reads: the referent filled in where that could be done
    search: str  # what retrieval looks for: the standalone question plus the context words
    context: tuple[str, ...] = ()  # the words taken from earlier turns (shown to the user)
    depends: bool = False
    prefer_doc: str | None = None  # among equal retrieval scores, this document first
    reasons: tuple[str, ...] = field(default=(), compare=False)  # why it was taken as a follow-up


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def content_words(text: str) -> list[str]:
    """The words that carry a question's topic (not question words, auxiliaries, pronouns)."""
    return [t for t in tokens(text) if t[0].isalnum() and t.casefold() not in STOP and (len(t) > 1 or t.isdigit())]


def _leading_connective(words: list[str]) -> str | None:
    low = " ".join(w.casefold() for w in words[:3])
    for c in CONNECTIVES:
        if low == c or low.startswith(c + " "):
            return c
    return None


def names(text: str, first_word: bool = False) -> list[str]:
    """Capitalised runs; the sentence's first word is left out (it is capitalised as any first
    word is) unless `first_word` (a fragment such as "Lima" of "What about Lima?")."""
    found = []
    for m in _NAME.finditer(text):
        name = m.group(0).strip(" .")
        words = name.split()
        if not first_word and (m.start() == 0 or text[: m.start()].strip() == ""):
            # the first word is capitalised as any sentence's is: "When did...", "According to..."
            # ("Peru's president" loses Peru, which the context words still carry)
            words = words[1:]
        while words and words[0].casefold() in STOP:
            words = words[1:]
        while words and words[-1].casefold() in STOP:
            words = words[:-1]
        if words:
            words[-1] = re.sub(r"['’]s?$", "", words[-1])  # "Antarctica's" names Antarctica
            if all(w.casefold().strip(".,") in MONTHS for w in words):
                continue  # "22 September 2003": a date, not something "it" names
            found.append(" ".join(words))
    return found


def _personlike(text: str) -> bool:
    """Could "she"/"he" name this? Capitalised words, no figures, not a month or a weekday."""
    words = text.split()
    if not 1 <= len(words) <= 5 or _NUMBERISH.search(text):
        return False
    caps = [w for w in words if w[:1].isupper()]
    return len(caps) >= max(1, len(words) - 1) and not any(w.casefold().strip(".,") in MONTHS for w in words)


def _thinglike(text: str) -> bool:
    """Could "it"/"they" name this? Not a bare number, date or a person's name."""
    return bool(content_words(text)) and not _YEAR.fullmatch(text.strip()) and not re.fullmatch(r"[\d.,%$ ]+", text.strip())


def _antecedent_before(words: list[str], i: int, pronoun: str) -> bool:
    """Is there something earlier in the question the pronoun at `i` can point back to?"""
    before = words[:i]
    return any(w[:1].isupper() and w.casefold() not in STOP for w in before[1:])


def depends_on_context(question: str) -> tuple[str, ...]:
    """Why `question` needs the earlier turns (empty: it stands alone)."""
    words = [w for w in tokens(question) if w[0].isalnum()]
    if not words:
        return ()
    reasons = []
    c = _leading_connective(words)
    if c is not None and len(words) > len(c.split()):
        reasons.append(f"starts with {c!r}")
    if not content_words(question):
        reasons.append("no words of its own")
    for i, w in enumerate(words):
        low = w.casefold()
        if low in PRONOUNS and not _antecedent_before(words, i, low):
            reasons.append(f"{w!r} points back")
            break
        if low in DEMONSTRATIVE and all(x.casefold() in WH | AUX | {"and", "but", "so"} for x in words[:i]):
            reasons.append(f"{w!r} points back")
            break
        if low == "there" and not ((i + 1 < len(words) and words[i + 1].casefold() in BE) or (i and words[i - 1].casefold() in BE)):
            reasons.append("'there' points back")
            break
        if low == "then" and i > 0:
            reasons.append("'then' points back")
            break
    return tuple(reasons)


# ---------------------------------------------------------------------------------- referents


def _referent(pronoun: str, turn: Turn, strict: bool = False) -> str | None:
    """What `pronoun` most likely names in the turn it follows. `strict`: a person only when the
    turn says so clearly (the answer to "who", or a name of two words or more) — a single
    capitalised word may as well be a place, so an earlier turn's clear person goes first."""
    answer = (turn.answer or "").strip()
    named = names(turn.standalone)
    asked = _asked_for(turn.standalone)
    if pronoun in PERSONAL:
        if answer and _personlike(answer) and asked in ("who", "which", "what"):
            return answer
        if asked == "who":
            return None  # "she" after "Who is the president of Peru?" is the president, whom nothing named
        people = [n for n in named if _personlike(n) and (len(n.split()) > 1 or not strict)]
        return people[0] if people else None
    if pronoun in PLURAL:
        if answer and _thinglike(answer) and asked in ("who", "which", "what"):
            return answer
        return named[0] if named else _main_phrase(turn.standalone)
    # it / its / this / that
    if named:
        return named[0]
    return _main_phrase(turn.standalone)


def _asked_for(question: str) -> str | None:
    """The question word of a question ("who", "where", ...): what kind of thing its answer is."""
    for w in tokens(question)[:4]:
        if w.casefold() in WH:
            return "who" if w.casefold() in ("whom", "whose") else w.casefold()
    return None


def _main_phrase(question: str) -> str | None:
    """The earlier question's topic words, as a phrase ("the state of emergency")."""
    words = [w for w in tokens(question) if w[0].isalnum()]
    runs: list[list[str]] = []
    cur: list[str] = []
    for w in words:
        low = w.casefold()
        if low not in STOP or (cur and low in {"of", "the"}):
            cur.append(w)
        else:
            if cur:
                runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    runs = [r[: len(r) - next((k for k, w in enumerate(reversed(r)) if w.casefold() not in {"of", "the"}), 0)] for r in runs]
    runs = [r for r in runs if r]
    if not runs:
        return None
    best = max(runs, key=len)
    return " ".join(best)


def _place_or_time(turn: Turn, kind: str) -> str | None:
    answer = (turn.answer or "").strip()
    if kind == "there":
        if answer and _asked_for(turn.standalone) == "where" and not _NUMBERISH.search(answer):
            return f"in {answer}"
        named = names(turn.standalone)
        return f"in {named[-1]}" if named else None
    if answer and _asked_for(turn.standalone) == "when":
        return f"in {answer}"
    year = _YEAR.search(turn.standalone)
    return f"in {year.group(0)}" if year else None


def _fill_in(question: str, turn: Turn, strict: bool = False) -> tuple[str, list[str]]:
    """The question with its pointing words replaced by what they point to (and what was used)."""
    parts = re.split(r"(\w+(?:['’]\w+)*)", question)
    used: list[str] = []
    words_so_far: list[str] = []
    done = False
    for j in range(1, len(parts), 2):
        w = parts[j]
        low = w.casefold()
        nxt = next((p for p in parts[j + 2 :: 2] if p), "")
        if not done and low in PRONOUNS | DEMONSTRATIVE and not _antecedent_before(words_so_far + [w], len(words_so_far), low):
            if low in DEMONSTRATIVE and not all(x.casefold() in WH | AUX | {"and", "but", "so"} for x in words_so_far):
                words_so_far.append(w)
                continue
            ref = _referent(low if low not in DEMONSTRATIVE else "it", turn, strict)
            if ref:
                possessive = low in POSSESSIVE or (low == "her" and nxt[:1].isalpha() and nxt.casefold() not in STOP)
                if low in DEMONSTRATIVE and nxt[:1].isalpha() and nxt.casefold() not in STOP:
                    ref = None  # "that year": a determiner, its noun says enough; the search adds the context
                if ref:
                    parts[j] = f"{ref}'s" if possessive and not ref.endswith("s") else (f"{ref}'" if possessive else ref)
                    used.append(ref)
                    done = True
        elif not done and low in ("there", "then"):
            nb = words_so_far[-1].casefold() if words_so_far else ""
            if not (low == "there" and (nb in BE or nxt.casefold() in BE)) and words_so_far:
                ref = _place_or_time(turn, low)
                if ref:
                    parts[j] = ref
                    used.append(ref.removeprefix("in "))
                    done = True
        words_so_far.append(w)
    return "".join(parts), used


def _bare(question: str, turn: Turn) -> str | None:
    """A question with only a question word ("Why?", "Since when?", "How many?") takes the
    earlier question's words: "When did X resign?" → "Why did X resign?"; after a "who"
    question its answer is the one asked about: "Who has led X?" → "Since when has Priya
    Raman led X?"."""
    words = [w for w in tokens(question) if w[0].isalnum()]
    while words and words[0].casefold() in {"and", "but", "so", "also"}:
        words = words[1:]
    if not any(w.casefold() in WH for w in words[:2]):
        return None
    prev = [w for w in tokens(turn.standalone) if w[0].isalnum()]
    k = 0
    while k < len(prev) and prev[k].casefold() in WH | {"many", "much", "long", "often", "far", "old", "year", "kind"}:
        k += 1
    if k == 0 or k >= len(prev):
        return None
    rest = prev[k:]
    if _asked_for(turn.standalone) == "who" and turn.answer:
        rest = [rest[0], turn.answer.strip(), *rest[1:]] if rest[0].casefold() in AUX else [turn.answer.strip(), *rest]
    return f"{' '.join(words)} {' '.join(rest)}?"


def _ellipsis(question: str, turn: Turn) -> str | None:
    """"And in 2019?" / "What about Lima?": the earlier question with its like part replaced."""
    words = [w for w in tokens(question) if w[0].isalnum()]
    c = _leading_connective(words)
    if c is None:
        return None
    rest = words[len(c.split()) :]
    if not rest or any(w.casefold() in WH for w in rest) or any(w.casefold() in AUX for w in rest):
        return None  # a question of its own after the connective ("and who led it?")
    new = " ".join(rest)
    prev = turn.standalone.rstrip(" ?")
    year = _YEAR.search(new)
    if year and _YEAR.search(prev):
        return _YEAR.sub(year.group(0), prev, count=1) + "?"
    new_names = names(new, first_word=True)
    old_names = [n for n in names(prev)]
    if new_names and old_names:
        return prev.replace(old_names[-1], new_names[0], 1) + "?"
    return f"{prev} {new}?"


# ---------------------------------------------------------------------------------- the method


def understand(question: str, turns: Sequence[Turn]) -> Understood:
    """What `question` asks after `turns` (oldest first): the question read and searched."""
    q = question.strip()
    reasons = depends_on_context(q) if turns else ()
    if not reasons:
        return Understood(question=question, standalone=q, search=q)
    # a pronoun the last turn cannot fill clearly ("she" after a turn about an office) looks one
    # turn further back before taking the last turn's weaker candidate
    standalone, used, turn = q, [], turns[-1]
    for candidate, strict in [(turns[-1], True), *([(turns[-2], True)] if len(turns) > 1 else []), (turns[-1], False)]:
        standalone, used = _fill_in(q, candidate, strict)
        if used:
            turn = candidate
            break
    elliptic = False
    points_back = any(t.casefold() in PRONOUNS | DEMONSTRATIVE for t in tokens(q))
    if not used and not points_back:
        # only a question word ("Why?") or an ellipsis ("And in 2019?"); a pronoun nothing could
        # fill ("Where is he from?" after a turn that named nobody) is left as it is, to the search words
        rebuilt = _bare(q, turn) if not content_words(q) else _ellipsis(q, turn)
        if rebuilt is not None:
            standalone, elliptic = rebuilt, bool(content_words(q))
    standalone = _cleanup(standalone)
    # an ellipsis ("And in 2019?") already carries the earlier question's words, and the earlier
    # answer (and the part it replaced) would pull the search back to the earlier passage
    context = [] if elliptic else _context_words(turn, standalone)
    search = " ".join([standalone, *context])
    return Understood(
        question=question,
        standalone=standalone,
        search=search,
        context=tuple(used) + tuple(c for c in context if c not in used),
        depends=True,
        prefer_doc=turn.doc_id,
        reasons=reasons,
    )


def _cleanup(text: str) -> str:
    text = re.sub(r"^\s*(?:and|but|so|also)\s+(?=\w)", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:1].upper() + text[1:]


def _context_words(turn: Turn, standalone: str) -> list[str]:
    """The earlier turn's salient words not already in the question: its answer, then its content words."""
    have = {w.casefold() for w in content_words(standalone)}
    out: list[str] = []
    if turn.answer and not all(w.casefold() in have for w in content_words(turn.answer)):
        out.append(turn.answer.strip())
        have |= {w.casefold() for w in content_words(turn.answer)}
    for w in content_words(turn.standalone):
        if w.casefold() not in have and len(out) < MAX_CONTEXT_WORDS:
            out.append(w)
            have.add(w.casefold())
    return out
