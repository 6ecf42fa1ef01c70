"""What kind of answer a question expects, and fast rule-based finders for such spans.

A "how many" question wants a number, "when" a date, "who" a name, "where" a place; other
questions are answered by a whole sentence. The finders are regular expressions rather than
spaCy NER: they run in microseconds per sentence (spaCy's small model costs ~1.3 s to load
and ~20 ms a sentence, which alone would break the 2 s cold `qa ask` target), and on news
prose numbers, dates and capitalised names are exactly what these patterns see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Expected answer kinds.
NUMBER = "number"
DATE = "date"
DURATION = "duration"
NAME = "name"  # a person or a group
PLACE = "place"
EXPANSION = "expansion"  # what an acronym stands for
SENTENCE = "sentence"  # no span type: the sentence is the answer
SPAN_KINDS = (NUMBER, DATE, DURATION, NAME, PLACE, EXPANSION)

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Janaury"
)
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_NUM_WORD = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    "hundred|a hundred|dozens|a dozen|hundreds|thousands|millions"
)
_SCALE = r"(?:\s(?:million|billion|trillion|thousand|hundred))?"
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_NUMBER_CORE = rf"(?:(?:US\s?)?\$|S/\.?\s?|€|£)?(?:{_DIGITS}){_SCALE}(?:\s?(?:%|percent|per cent))?"
_NUMBER_WORDS = rf"(?:{_NUM_WORD})(?:[- ](?:{_NUM_WORD}))*{_SCALE}"
_FRACTION = r"(?:one|two|three|four|a)[- ](?:half|third|thirds|quarter|quarters|fifth|fifths|tenth|tenths)"
NUMBER_RE = re.compile(rf"(?<![\w.,/\-–—])(?:{_NUMBER_CORE}|(?i:{_FRACTION})|(?i:{_NUMBER_WORDS}))(?![\w/])")
_YEAR = r"(?:1[5-9]\d\d|20\d\d)"
DATE_RE = re.compile(
    rf"(?:(?:early|mid|late)[- ])?(?:(?:{_WEEKDAYS}),?\s)?"
    rf"(?:(?:{_MONTHS})\.?\s\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s{_YEAR})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s(?:of\s)?(?:{_MONTHS})(?:,?\s{_YEAR})?"
    rf"|(?:{_MONTHS})(?:\s(?:of\s)?{_YEAR})?"
    rf"|(?:{_WEEKDAYS})"
    rf"|{_YEAR}s?)\b"
)
_TIME_UNIT = r"(?:years?|months?|weeks?|days?|hours?|hrs?|minutes?|mins?|seconds?|secs?|milliseconds?|ms|decades?|centuries|century)"
DURATION_RE = re.compile(rf"(?<![\w.,])(?:{_DIGITS}|(?i:{_NUMBER_WORDS})|a|an|several|a few)[- ]{_TIME_UNIT}\b")
# Capitalised words, optionally joined by lower-case particles of names ("Pedro Pablo Kuczynski",
# "Universidad de San Marcos", "Alliance for Progress").
_CAP = r"(?:[A-ZÀ-Þ][\w’'.-]*[\w]|[A-Z]\.(?:[A-Z]\.)*|[A-Z])"
NAME_RE = re.compile(rf"{_CAP}(?:(?:\s(?:de|del|la|las|los|y|da|van|von|of|for|and|the))*\s{_CAP})*")

# Capitalised words that are not names on their own (sentence openers, months, titles).
_NOT_NAMES = frozenset(
    """
    the a an in on at of for to from by with and but or as if it its this that these those there
    he she they we i you his her their our my your when where who what why how which while after
    before since during then also still yet however although though because so not no yes one
    mr mrs ms dr president minister congress government
    instead meanwhile moreover furthermore therefore thus hence later today yesterday tomorrow
    finally eventually initially nevertheless nonetheless similarly likewise consequently
    additionally afterwards afterward recently currently previously soon already perhaps indeed
    unlike despite following according throughout within without among
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday summary editors photo
    """.split()
)
_TITLES = frozenset(
    "president minister prime vice former de facto general leader mayor governor senator lawyer "
    "professor dr mr mrs ms judge prosecutor congressman congresswoman candidate head".split()
)
_PLACE_CUE = re.compile(r"\b(?:in|at|near|from|to|across|into|outside|inside|toward|towards|throughout)\s+$", re.I)
_PERSON_CUE = re.compile(r"\b(?:said|says|told|explained|wrote|argued|stated|declared|announced)\b")


# "When violence is used, …", "If P equals NP, …": a clause before the question proper.
_LEAD_CLAUSE = re.compile(r"\s*(?:when|if|after|before|while|since|as|once|although|though|during|in|at|on|by|for|from|according to)\b[^,?]*,\s*")
_WH = re.compile(r"\b(why|how|when|where|who|whom|whose|what|which)\b")
# "how many", "how high", …: a quantity ("how long" is a duration); any other "how" asks for a manner.
_MEASURE_WORDS = r"many|much|old|far|often|big|large|high|tall|deep|wide|heavy|fast"
_HOW_MEASURE = re.compile(rf"\s+(?:long|{_MEASURE_WORDS})\b")
# "What was his approval rating", "by what margin", "what share of …": a quantity is wanted.
_MEASURE_NOUN = re.compile(
    r"\b(?:what|which)\s+(?:[\w'-]+\s+){0,4}?(?:number|numbers|percentage|percent|share|proportion|fraction|portion|"
    r"amount|price|cost|sum|rating|rate|margin|toll|turnout|tally|total|figure|population)\b(?!\s+(?:of\s+)?(?:who|which|that)\b)"
)


@dataclass(frozen=True)
class Span:
    """A candidate answer inside a sentence: offsets are into that sentence."""

    start: int
    end: int
    kind: str
    prior: float = 0.0  # how typical this span is of its kind, in [0, 1]


def expected_kind(question: str) -> str:
    """The answer kind a question asks for, from its main wh-phrase (SENTENCE when none fits).

    The main wh-word is the first one outside a leading subordinate clause: "When violence is
    used, what is it called?" asks "what", and "What did the Shah do when he lost?" asks "what"
    too — a "when" later in the question is not what is asked.
    """
    if acronym_in(question):
        return EXPANSION
    q = " " + " ".join(question.lower().replace("’", "'").split()) + " "
    lead = _LEAD_CLAUSE.match(q)
    if lead and _WH.search(q, lead.end()):
        q = " " + q[lead.end() :]
    first = _WH.search(q)
    wh = first.group(1) if first else None
    if wh in ("why", "how") and not _HOW_MEASURE.match(q, first.end()):  # type: ignore[union-attr]
        return SENTENCE  # "Why … when the pandemic arrived?" asks for a reason, not a date
    if re.search(rf"\bhow (?:{_MEASURE_WORDS})\b", q) or _MEASURE_NOUN.search(q):
        return NUMBER
    if re.search(r"\bhow long\b|\bfor how long\b|\bwhat (period|duration)\b", q):
        return DURATION
    if wh == "when" or re.search(r"\b(what|which) (year|date|day|month|time|century|decade)\b|\bin what year\b", q):
        return DATE
    if wh == "where" or re.search(r"\b(what|which) (city|cities|country|countries|region|regions|town|towns|place|places|province|department|capital|highway|lake|river|area|district)\b", q):
        return PLACE
    if re.match(r"(?i:who)\s+(?:is|was|are|were)\s+(?!(?:The|A|An)\b)[A-ZÀ-Þ]", question.strip()):
        return SENTENCE  # "Who is Dina Boluarte?" asks for a description, not a name
    if (
        wh in ("who", "whom", "whose")
        or re.search(r"\b(what|which) \w+(ist|ian)s?\b", q)
        or re.search(r"\b(what|which) (?:[\w-]+ ){0,2}(person|party|parties|group|organi[sz]ation|company|companies|union|newspaper|university|institution|official|politician|leader|minister|president|lawyer|professor|reporter|writer|author|body|agency|movement)\b", q)
    ):
        return NAME
    return SENTENCE


# Units of measurement that belong to the number before them (not counted things: "54 people").
_UNIT_WORDS = (
    r"km|kilomet(?:re|er)s?|met(?:re|er)s?|m|cm|mm|miles?|feet|foot|ft|inch(?:es)?|kg|kilo(?:gram)?s?|"
    r"grams?|tons?|tonnes?|lbs?|pounds|lit(?:re|er)s?|degrees?(?: celsius| fahrenheit)?|°[CF]?|hectares?|ha|acres?|"
    r"mph|km/h|square (?:kilomet(?:re|er)s|miles|met(?:re|er)s)"
)
_UNIT = re.compile(rf"[ \u00a0]?(?:{_UNIT_WORDS})(?![\w/])", re.I)
_UNIT_TAIL = re.compile(rf"(?<=\d)\s?(?:{_UNIT_WORDS})\.?$", re.I)


def _numbers(sentence: str) -> list[Span]:
    dates = [(m.start(), m.end()) for m in DATE_RE.finditer(sentence)]
    out = []
    for m in NUMBER_RE.finditer(sentence):
        a, b = m.start(), m.end()
        text = m.group(0)
        inside_date = any(s <= a and b <= e for s, e in dates)
        if inside_date:
            continue
        prior = 1.0 if any(ch.isdigit() for ch in text) else 0.6
        if text.lower() == "one":  # mostly a pronoun ("one of the ...")
            prior = 0.2
        elif text.lower() in ("dozens", "a dozen", "hundreds", "thousands", "millions"):
            prior = 0.3  # "thousands marched": an order of magnitude, rarely the count asked for
        if re.fullmatch(_YEAR, text):  # a bare year is a date, rarely a count
            prior = 0.1
        unit = _UNIT.match(sentence, b)
        if unit and prior >= 0.5:
            b = unit.end()  # "5,822 metres": a measurement is read with its unit
        out.append(Span(a, b, NUMBER, prior))
    return out


def _dates(sentence: str) -> list[Span]:
    out = []
    for m in DATE_RE.finditer(sentence):
        text = m.group(0)
        if text in {"May", "March"} and not re.search(r"\d", text):
            # "may" the verb and "march" the noun: only a date when capitalised mid-sentence
            if m.start() == 0:
                continue
        prior = 1.0 if re.search(r"\d", text) else 0.5
        if re.fullmatch(_WEEKDAYS, text):
            prior = 0.3
        out.append(Span(m.start(), m.end(), DATE, prior))
    return out


def _durations(sentence: str) -> list[Span]:
    return [Span(m.start(), m.end(), DURATION, 1.0) for m in DURATION_RE.finditer(sentence)]


# Capitalised adjectives of origin ("Peruvian", "Andean", "Japanese", "Indigenous").
_DEMONYM = re.compile(r"[A-ZÀ-Þ]\w*(?:ian|ean|ican|ese|ish)|Indigenous|Native|Aboriginal|Black|White")
_LOWER_NEXT = re.compile(r"\s+[a-zà-þ]")


def _names(sentence: str) -> list[Span]:
    out = []
    for m in NAME_RE.finditer(sentence):
        a, b = m.start(), m.end()
        tokens = m.group(0).split()
        # drop leading capitalised non-names ("The", "President", "In")
        while tokens and tokens[0].lower().strip("’'.") in _NOT_NAMES | _TITLES:
            a = sentence.index(tokens[0], a) + len(tokens[0])
            while a < b and sentence[a] == " ":
                a += 1
            tokens = tokens[1:]
        while tokens and tokens[-1].lower() in {"de", "del", "la", "las", "los", "y", "da", "van", "von", "of", "for", "and", "the"}:
            tokens = tokens[:-1]
        if not tokens:
            continue
        b = a + len(" ".join(tokens)) if sentence[a:b].startswith(" ".join(tokens)) else b
        text = sentence[a:b].rstrip(".’'")
        b = a + len(text)
        if not text or text.lower() in _NOT_NAMES or DATE_RE.fullmatch(text):
            continue
        possessive = text.endswith("’s") or text.endswith("'s")
        if possessive:
            b -= 2
            text = text[:-2]
        prior = 0.7 if len(tokens) > 1 else 0.5
        if possessive:
            prior -= 0.2  # "Peru’s second city": the name modifies what follows, it is rarely the answer
        if a == 0 and len(tokens) == 1:
            prior = 0.3  # a capitalised sentence opener
        if all(_DEMONYM.fullmatch(t) for t in tokens) and _LOWER_NEXT.match(sentence, b):
            prior -= 0.4  # "Indigenous Peruvian women": adjectives before a noun, not a name
        out.append(Span(a, b, NAME, prior))
    return out


def _places(sentence: str) -> list[Span]:
    out = []
    for span in _names(sentence):
        cue = bool(_PLACE_CUE.search(sentence[max(0, span.start - 14) : span.start]))
        out.append(Span(span.start, span.end, PLACE, min(1.0, span.prior + (0.4 if cue else -0.2))))
    return out


_ORG_WORDS = re.compile(
    r"\b(?:University|Universidad|Party|Partido|Congress|Ministry|Council|Association|Coordinator|Commission|"
    r"Committee|Front|Union|Federation|Confederation|Institute|Court|Office|Army|Police|Church|Bank|"
    r"Company|Corporation|Group|Movement|Assembly|Embassy|Agency|Organization|Organisation|Network)\b"
)
_ORG_QUESTION = re.compile(r"\b(party|parties|group|organi[sz]ation|company|companies|union|newspaper|university|institution|body|agency|movement)\b", re.I)
_APPOSITIVE = re.compile(r"^,\s(?:the\s|a\s|an\s)?(?:\w+\s){0,3}?(?:%s)\b" % "|".join(
    "president minister leader mayor governor senator lawyer professor judge prosecutor head director "
    "spokesperson spokesman spokeswoman secretary activist journalist sociologist analyst member founder".split()
))


def wants_organisation(question: str) -> bool:
    """Does a name question ask for a group ("which party") rather than a person?"""
    return bool(_ORG_QUESTION.search(question))


def _people(sentence: str, org: bool = False) -> list[Span]:
    out = []
    for span in _names(sentence):
        before = sentence[max(0, span.start - 40) : span.start].lower()
        after = sentence[span.end : span.end + 25].lower()
        prior = span.prior
        is_org = bool(_ORG_WORDS.search(sentence[span.start : span.end]))
        if is_org:
            prior += 0.3 if org else -0.3
        if _APPOSITIVE.match(sentence[span.end : span.end + 60]):
            prior += 0.3
        if _PLACE_CUE.search(sentence[max(0, span.start - 14) : span.start]):
            prior -= 0.25
        if any(t in before.split()[-2:] for t in _TITLES) or _PERSON_CUE.search(after) or _PERSON_CUE.search(before[-12:]):
            prior += 0.3
        out.append(Span(span.start, span.end, NAME, max(0.05, min(1.0, prior))))
    return out


_FINDERS = {NUMBER: _numbers, DATE: _dates, DURATION: _durations, NAME: _people, PLACE: _places}


def find_spans(sentence: str, kind: str, org: bool = False) -> list[Span]:
    """Every span of `kind` in `sentence` (none for SENTENCE); `org`: a group is wanted."""
    if kind == NAME:
        return _people(sentence, org)
    finder = _FINDERS.get(kind)
    return finder(sentence) if finder else []


_WORD_NUMBERS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen".split()
    )
} | {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}


def canonical(text: str, kind: str) -> str:
    """A comparison key: equal keys are the same answer ("1,300" and "1300"; "six" and "6")."""
    t = " ".join(text.casefold().replace("’", "'").split()).strip(" .,;:'\"")
    if kind == NUMBER:
        t = _UNIT_TAIL.sub("", t)  # "5,822 metres" and "5,822 m." are the same value
    if kind in (NUMBER, DURATION):
        t = re.sub(r"(?<=\d),(?=\d{3})", "", t)
        parts = re.split(r"[- ]", t)
        if parts and all(p in _WORD_NUMBERS for p in parts[:2]) and parts[0] in _WORD_NUMBERS:
            value = sum(_WORD_NUMBERS[p] for p in parts[:2] if p in _WORD_NUMBERS)
            t = " ".join([str(value), *[p for p in parts if p not in _WORD_NUMBERS]])
        t = re.sub(r"s\b", "", t) if kind == DURATION else t
    if kind in (NAME, PLACE):
        t = re.sub(r"^(the|a|an) ", "", t)
    return t


_MONTH_NUMBER = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}


def date_parts(text: str) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) that a date span states, None for what it leaves open."""
    t = text.casefold()
    year = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", t)
    month = next((n for m, n in _MONTH_NUMBER.items() if re.search(rf"\b{m}", t)), None)
    day = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", re.sub(r"\b\d{4}\b", "", t)) if month else None
    return (int(year.group(1)) if year else None, month, int(day.group(1)) if day else None)


def compatible(a: str, b: str, kind: str) -> bool:
    """Can two answers both be true of one thing? "Dec 7" and "December 7, 2022" can (one is
    less specific); "December 7" and "January 9" cannot. Other kinds: equal keys only."""
    if kind != DATE:
        return canonical(a, kind) == canonical(b, kind)
    pa, pb = date_parts(a), date_parts(b)
    if pa == (None, None, None) or pb == (None, None, None):
        return canonical(a, kind) == canonical(b, kind)
    return all(x is None or y is None or x == y for x, y in zip(pa, pb, strict=True))



# ----------------------------------------------------------------------------- acronyms

_ACRONYM_Q = re.compile(
    r"(?i:\bwhat (?:does|did|do) (?:the )?)([A-Z][A-Za-z0-9&.]{1,11}?)(?:'s)?(?i: (?:stand for|mean|abbreviate))\b"
    r"|(?i:\bwhat is (?:the )?(?:full name|expansion|meaning) of (?:the )?)([A-Z][A-Za-z0-9&.]{1,11})\b"
)
_FUNCTION_WORDS = frozenset("of de del la las los y the and for to in on el et des du da do das dos für und".split())


def acronym_in(question: str) -> str | None:
    """The acronym a question asks to spell out ("What does CGTP stand for?" → "CGTP")."""
    m = _ACRONYM_Q.search(question)
    if not m:
        return None
    acronym = (m.group(1) or m.group(2)).strip(".")
    return acronym if sum(ch.isupper() for ch in acronym) >= 2 else None


def find_expansions(sentence: str, acronym: str) -> list[Span]:
    """Where `sentence` spells out `acronym`: "CGTP (Confederación General …)" or
    "Confederación General … (CGTP)"; the words kept are those whose initials make the acronym."""
    out: list[Span] = []
    esc = re.escape(acronym)
    for m in re.finditer(rf"\b{esc}\b\s*\((?:(?:the|a|an|el|la|los|las)\s+)?([^()]{{3,160}})\)", sentence):
        out.append(Span(m.start(1), m.end(1), EXPANSION, 1.0))
    letters = [ch for ch in acronym if ch.isalpha()]
    for m in re.finditer(rf"\(\s*{esc}\s*\)", sentence):
        head = sentence[: m.start()].rstrip(" ,")
        words = list(re.finditer(r"[\w’'-]+", head))
        need, start = len(letters), None
        for w in reversed(words):
            token = w.group(0)
            if token.lower() in _FUNCTION_WORDS:
                continue
            if not token[:1].isupper():
                break
            need -= 1
            start = w.start()
            if need == 0:
                break
        if start is not None and need <= max(0, len(letters) // 3):
            out.append(Span(start, len(head), EXPANSION, 1.0 if need == 0 else 0.6))
    return out
