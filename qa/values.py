"""Numbers, dates and durations a text states, compared by value.

Kept as rules because they are general facts about written values, not guesses about
questions: "1,300" and "1300" are one number, "Dec 7" and "December 7, 2022" can both be true,
"December 7" and "January 9" cannot. The answer layer uses them to merge equal answers and to
tell when sources disagree; retrieval uses `acronym_in` to search an acronym itself.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

NUMBER = "number"
DATE = "date"
DURATION = "duration"
VALUE_KINDS = (DATE, DURATION, NUMBER)  # the order matters: "six weeks" is a duration, "May 2023" a date

# month names, full names before abbreviations (alternation takes the first that matches);
# the one list of them: clean.py's dateline finder uses it too (case-insensitively)
MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
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
# a year as a value: 1500-2099 (the one year range: clean.py's reference-list finder uses it too)
YEAR = r"(?:1[5-9]\d\d|20\d\d)"
DATE_RE = re.compile(
    rf"(?:(?:early|mid|late)[- ])?(?:(?:{_WEEKDAYS}),?\s)?"
    rf"(?:(?:{MONTHS})\.?\s\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s{YEAR})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s(?:of\s)?(?:{MONTHS})(?:,?\s{YEAR})?"
    rf"|(?:{MONTHS})(?:\s(?:of\s)?{YEAR})?"
    rf"|(?:{_WEEKDAYS})"
    rf"|{YEAR}s?)\b"
)
_TIME_UNIT = r"(?:years?|months?|weeks?|days?|hours?|hrs?|minutes?|mins?|seconds?|secs?|milliseconds?|ms|decades?|centuries|century)"
DURATION_RE = re.compile(rf"(?<![\w.,])(?:{_DIGITS}|(?i:{_NUMBER_WORDS})|a|an|several|a few)[- ]{_TIME_UNIT}\b")

@dataclass(frozen=True)
class Span:
    """A candidate answer inside a sentence: offsets are into that sentence."""

    start: int
    end: int
    kind: str
    prior: float = 0.0  # how typical this span is of its kind, in [0, 1]



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
        if re.fullmatch(YEAR, text):  # a bare year is a date, rarely a count
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


_FINDERS = {NUMBER: _numbers, DATE: _dates, DURATION: _durations}


def find_values(text: str, kind: str) -> list[Span]:
    """Every value of `kind` in `text`, with how definite it is (`prior`: "thousands" is not a count)."""
    return _FINDERS[kind](text)


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
    return t


_MONTH_NUMBER = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}


def date_parts(text: str) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) that a date span states, None for what it leaves open."""
    t = text.casefold()
    year = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", t)
    month = next((n for m, n in _MONTH_NUMBER.items() if re.search(rf"\b{m}", t)), None)
    day = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", re.sub(r"\b\d{4}\b", "", t)) if month else None
    return (int(year.group(1)) if year else None, month, int(day.group(1)) if day else None)


_UNIT_NAMES = {"km": "kilometre", "m": "metre", "cm": "centimetre", "mm": "millimetre", "mi": "mile", "ft": "foot", "feet": "foot",
               "kg": "kilogram", "kilo": "kilogram", "lb": "pound", "ton": "tonne", "ha": "hectare", "°c": "degree celsius", "°f": "degree fahrenheit"}


def unit_of(value: str) -> str | None:
    """The unit of measurement a number states ("346 kilometres" → "kilometre", "5 km" too),
    None for a bare count: two figures in different units are not two claims about one thing."""
    m = _UNIT_TAIL.search(value.strip())
    if m is None:
        return None
    unit = " ".join(m.group(0).casefold().rstrip(".").split())
    unit = unit.replace("meter", "metre").replace("liter", "litre")
    first, *rest = unit.split()
    first = first[:-2] if first == "inches" else first[:-1] if first.endswith("s") and len(first) > 3 else first
    unit = " ".join([first, *rest])
    return _UNIT_NAMES.get(unit, unit)


def compatible(a: str, b: str, kind: str) -> bool:
    """Can two answers both be true of one thing? "Dec 7" and "December 7, 2022" can (one is
    less specific); "December 7" and "January 9" cannot. Other kinds: equal keys only."""
    if kind != DATE:
        return canonical(a, kind) == canonical(b, kind)
    pa, pb = date_parts(a), date_parts(b)
    if pa == (None, None, None) or pb == (None, None, None):
        return canonical(a, kind) == canonical(b, kind)
    return all(x is None or y is None or x == y for x, y in zip(pa, pb, strict=True))



_ACRONYM_Q = re.compile(
    r"(?i:\bwhat (?:does|did|do) (?:the )?)([A-Z][A-Za-z0-9&.]{1,11}?)(?:'s)?(?i: (?:stand for|mean|abbreviate))\b"
    r"|(?i:\bwhat is (?:the )?(?:full name|expansion|meaning) of (?:the )?)([A-Z][A-Za-z0-9&.]{1,11})\b"
)


def acronym_in(question: str) -> str | None:
    """The acronym a question asks to spell out ("What does CGTP stand for?" → "CGTP")."""
    m = _ACRONYM_Q.search(question)
    if not m:
        return None
    acronym = (m.group(1) or m.group(2)).strip(".")
    return acronym if sum(ch.isupper() for ch in acronym) >= 2 else None


_PUNCT = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """The official SQuAD normalisation: lower, drop punctuation, drop articles, fix spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())
