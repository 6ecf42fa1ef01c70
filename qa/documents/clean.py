"""Turn the text of one web-page dump into clean articles, by general rules.

Pages saved from the web carry navigation rows, share buttons, donation appeals, comment
forms and teasers of other articles; some are hard-wrapped, some hold several articles.
Everything here works line by line and keeps each kept line's number, so every character of
a cleaned document can be traced back to the line of the file it came from (`LineSpan`).

The rules are deliberately about the *shape* of web text (short social rows, appeal
vocabulary, a share row closing the article, "Title / By Author" lines) and never about any
particular site or file. They apply only to a file that looks like a saved web page (several
navigation, share, teaser or appeal lines, or a comment form): notes, forum posts and articles
written one per file lose nothing, though a post may speak of newsletters and several notes may
share a line. From any file go a photo credit (never a paragraph of full sentences), a block
pasted twice and a closing reference list. `clean_file` says which lines went.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from qa.records import Document, LineSpan
from qa.values import MONTHS, YEAR

# --- line normalisation ------------------------------------------------------------------

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Zero-width and bidi formatting characters: invisible, and they split words for the tokenizer.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# Control characters other than tab (tabs become spaces below).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")


def split_lines(text: str) -> list[str]:
    """Lines as an editor numbers them: \\r\\n, \\n and a lone \\r each end a line."""
    return _LINE_BREAK.split(text)


def normalize_line(line: str) -> str:
    """One line with odd whitespace collapsed (no-break spaces included) and invisibles removed.

    Tests apply the same function to raw lines when they check that passages are verbatim.
    """
    line = unicodedata.normalize("NFC", line)
    line = _INVISIBLE.sub("", line)
    line = _CONTROL.sub(" ", line)
    return _SPACES.sub(" ", line).strip()


def words(text: str) -> list[str]:
    return text.split()


# --- line-level boilerplate --------------------------------------------------------------

_SOCIAL = (
    r"facebook|twitter|x|instagram|youtube|linkedin|whatsapp|telegram|reddit|pinterest|tiktok|"
    r"mastodon|bluesky|threads|email|e-mail|print|share|tweet|pin|copy|link|rss|feed|flipboard|"
    r"messenger|vk|tumblr|pocket|sms|mail|on|this|it|via|the|us|follow|like"
)
_SOCIAL_ROW = re.compile(rf"^(?:(?:{_SOCIAL})[\s,|·•/:!]*)+$", re.I)
_SOCIAL_NAMES = re.compile(r"\b(facebook|twitter|instagram|youtube|linkedin|whatsapp|telegram|share|tweet)\b", re.I)
_NAV = re.compile(
    r"^(skip to (main )?content|skip navigation|jump to navigation|main menu|menu|toggle navigation|"
    r"search|search for:?|home|close|back to top|advertisement|sponsored( content)?|"
    r"cookie settings|accept( all)? cookies|log ?in|sign ?in|register|print this (article|page)|"
    r"share this( article| story| page)?:?|follow us( on .*)?|listen to this article|"
    r"\d+ comments?|comments|leave a (reply|comment)|previous( post| article)?|next( post| article)?)$",
    re.I,
)
# A line pointing at other content: "You might be interested in: …", "Read more: …".
_TEASER = re.compile(
    r"^(you (might|may) (also )?(be interested in|like)|read (more|also|next)|see also|related( articles?| posts?| stories)?|"
    r"recommended( for you)?|more on this( topic)?|also read|most read|trending( now)?|popular( posts)?)\b.{0,200}$",
    re.I,
)
# Comment forms: from here to the end of the page is not the article.
_COMMENT_FORM = re.compile(
    r"(your email address will not be published|required fields are marked|leave a (reply|comment)\b|"
    r"post comment$|^comments are closed|^\d+ (responses|comments) to\b|^join the discussion)",
    re.I,
)
_PHOTO_CREDIT = re.compile(
    r"(\|\s*photo\b|\bphoto(graph)?( source| credit)?\s*[:/]|\bimage( source| credit)?\s*:|\bcredit\s*:|"
    r"\[(ap|afp|reuters|efe)\s+photo|\b(getty images|shutterstock)\b)",
    re.I,
)
_APPEAL = re.compile(
    r"\b(donat(e|es|ed|ing|ion|ions)|fundrais\w*|raise funds|subscri(be|ption|bers?)|sign up|newsletter|"
    r"daily digest|email digest|patreon|paypal|tax[- ]deductible|independent (media|journalism)|"
    r"your (help|support|donation)|support (us|our work|independent)|become a (member|patron|supporter))\b",
    re.I,
)


def is_social_row(line: str) -> bool:
    """A row of share/follow buttons: only network names and share words."""
    return bool(_SOCIAL_ROW.match(line)) and bool(_SOCIAL_NAMES.search(line))


def is_boilerplate_line(line: str) -> bool:
    """Navigation, share rows and teaser links: never article text, wherever they stand."""
    return bool(is_social_row(line) or _NAV.match(line) or _TEASER.match(line))


def is_comment_form(line: str) -> bool:
    return bool(_COMMENT_FORM.search(line))


def is_appeal(text: str) -> bool:
    """A donation or newsletter appeal: two appeal phrases, or one in a short line."""
    found = {m.group(0).lower() for m in _APPEAL.finditer(text)}
    return len(found) >= 2 or (len(found) == 1 and len(words(text)) <= 15)


def is_photo_credit(text: str) -> bool:
    return bool(_PHOTO_CREDIT.search(text)) and len(words(text)) <= 60


_SENTENCE_END = re.compile(r"[.!?…][\"”’')\]]*$")
_WEB_SIGNALS = 2  # "several": one nav-like line ("Home", "Search") may be a person's own words


def is_full_sentences(text: str) -> bool:
    """Prose a person wrote: words that end as a sentence ends ("Photo: AP" does not)."""
    return len(words(text)) >= 4 and bool(_SENTENCE_END.search(text))


def web_signals(normed: Sequence[str]) -> int:
    """How many lines only a saved web page has: navigation, share rows, teasers, short
    appeals (banners, buttons); a comment form counts two (it is several lines of a form)."""
    n = 0
    for text in normed:
        if not text:
            continue
        if is_comment_form(text):
            n += 2
        elif is_boilerplate_line(text) or (is_appeal(text) and len(words(text)) <= 15):
            n += 1
    return n


def looks_like_web_page(normed: Sequence[str]) -> bool:
    """The boilerplate rules are for saved web pages only: elsewhere they took a person's
    words (a post about newsletters, a line several notes share) for page furniture."""
    return web_signals(normed) >= _WEB_SIGNALS


# --- dates, titles, bylines --------------------------------------------------------------

_MONTHS = rf"(?:{MONTHS})\.?"
DATE = re.compile(
    rf"\b(?:{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s+\d{{4}}|"
    r"\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{4})\b",
    re.I,
)
_INLINE_BYLINE = re.compile(r"^(?P<title>.{8,300}?)\s+[/|–—]\s+(?P<by>[Bb][Yy]\s+.{3,120})$")
_BYLINE = re.compile(r"^(?:by|written by|words by|author:?)\s+\S.{0,100}$", re.I)
_NAME_WORD = re.compile(r"^(?:[A-ZÀ-Þ][\w’'.-]*|[A-Z]\.(?:[A-Z]\.)*|de|del|la|da|van|von|y|e|and|&)$")
_TERMINAL = re.compile(r"[.!?:;…\"”’')\]]$")
_SHORT_WRAP = 100  # longest line a hard wrap leaves (editors and mail wrap at 72-80)
_ENDS_MID_SENTENCE = re.compile(r"(?:^|\s)(?:a|an|the|of|in|on|at|to|for|by|with|from|and|or|but|that|which|who|as|than|its|their|his|her|our|is|was|are|were|be|has|had|have)$|,$", re.IGNORECASE)
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_MD_BLOCK = re.compile(r"^(#{1,6}\s|[-*+]\s|\d+[.)]\s|>|```|\|)")


def date_in(text: str) -> str | None:
    m = DATE.search(text)
    return m.group(0) if m else None


def is_date_only(text: str) -> bool:
    m = DATE.search(text)
    return bool(m) and len(words(text.replace(m.group(0), ""))) <= 1


_PUBLISHED = re.compile(r"\b(?:published|posted|dated|date|issued)\b", re.I)
_DATELINE_LEAD = " \t,;:|·-–—("


def is_dateline(text: str) -> bool:
    """A line that states when the document itself was written: a date alone ("5 March 2024"),
    a publication line ending in one ("Originally published in The Post, March 5, 2024"), or a
    source or place signature before one ("The Andes Post 05.03.2024", "LIMA, 5 March 2024").
    A sentence that merely mentions a date ("Deadline moved to 22 March 2024") is not one."""
    m = DATE.search(text)
    if not m or text[m.end() :].strip(" .,;)"):
        return False  # no date, or words after it: the date does not close the line
    lead = words(text[: m.start()].strip(_DATELINE_LEAD))
    if not lead:
        return True
    if len(lead) <= 10 and _PUBLISHED.search(text[: m.start()]):
        return True
    names = [w.rstrip(",") for w in lead]
    signature = len(names) >= 2 or (len(names) == 1 and names[0].isupper() and len(names[0]) > 1)
    return signature and len(names) <= 4 and all(_NAME_WORD.match(w) for w in names)


def is_name_line(text: str) -> bool:
    """'Bill Young', 'W.T. Whitney Jr.': a short line of capitalised name words, no verb."""
    ws = words(text)
    if not 2 <= len(ws) <= 5 or any(ch.isdigit() for ch in text) or _TERMINAL.search(text.rstrip(".")):
        return False
    return all(_NAME_WORD.match(w.rstrip(",")) for w in ws) and ws[0][0].isupper()


def is_byline(text: str) -> bool:
    return bool(_BYLINE.match(text)) and len(words(text)) <= 16


def is_title_like(text: str) -> bool:
    """A headline: short, one paragraph, not a sentence that ends in a full stop."""
    ws = words(text)
    if not 1 <= len(ws) <= 30:
        return False
    stripped = text.rstrip("”’\"'")
    return not stripped.endswith((".", "!", ",", ";")) or len(ws) <= 3


def is_heading(text: str) -> bool:
    """A section or item heading: title-like, at most 15 words, starting with a capital."""
    ws = words(text)
    return 1 <= len(ws) <= 15 and is_title_like(text) and (text[:1].isupper() or text[:1] in "‘“\"'¿¡")


# --- paragraphs --------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    no: int  # 1-based line number in the file
    text: str  # normalised
    blank_before: bool


@dataclass
class Para:
    lines: list[Line]

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)

    @property
    def first(self) -> int:
        return self.lines[0].no


def _wrap_width(lines: Sequence[Line]) -> int | None:
    """The column a hard-wrapped file was wrapped at, or None when lines are paragraphs."""
    if len(lines) < 5:
        return None
    lengths = sorted(len(line.text) for line in lines)
    width = lengths[int(0.9 * (len(lengths) - 1))]
    if width > 130 or width < 30:
        return None
    open_ended = sum(1 for line in lines if len(line.text) >= 0.6 * width and not _TERMINAL.search(line.text))
    return width if open_ended >= 0.3 * len(lines) else None


def _continues(prev: Line, line: Line, width: int | None, markdown: bool) -> bool:
    """Does `line` continue the paragraph that `prev` ends (a hard wrap), rather than start one?"""
    if _TERMINAL.search(prev.text):
        return False
    if markdown:
        if _MD_BLOCK.match(line.text) or _MD_HEADING.match(prev.text):
            return False
        if not line.blank_before:
            return True
    starts_lower = line.text[:1].islower()
    if width is not None:
        return starts_lower or len(prev.text) >= 0.7 * width
    if line.blank_before:
        return starts_lower and len(words(prev.text)) >= 8
    # no blank line between: a lower-case start continues; so does a line after a sentence cut
    # off mid-way by a wrap ("…opened in the town of" / "Springfield by …") in a file too short
    # to measure its wrap width — a line of eight words or more, of wrap length, not a title
    return starts_lower or (len(words(prev.text)) >= 8 and len(prev.text) <= _SHORT_WRAP and _ENDS_MID_SENTENCE.search(prev.text) is not None)


def paragraphs(lines: Sequence[Line], markdown: bool) -> list[Para]:
    width = None if markdown else _wrap_width(lines)
    paras: list[Para] = []
    for line in lines:
        if paras and _continues(paras[-1].lines[-1], line, width, markdown):
            paras[-1].lines.append(line)
        else:
            paras.append(Para([line]))
    return paras


# --- the page ----------------------------------------------------------------------------


def _is_label(text: str, max_words: int) -> bool:
    """A short line that is not a sentence (no closing punctuation): a heading, a label, a button.

    Only such lines are dropped for being repeated; a repeated sentence is still text.
    """
    return bool(text) and len(words(text)) <= max_words and not _TERMINAL.search(text)


def content_lines(raw_lines: Sequence[str], repeated: frozenset[str] = frozenset(), web: bool = True) -> tuple[list[Line], list[int]]:
    """Normalised non-blank lines with navigation, share rows, teasers and page tails removed
    (on a web page: `web`), and the numbers of the lines removed.

    A comment form ends the page's article text. A share row in the last part of the page
    closes the article: what follows is furniture (related stories, author teasers) — unless
    another article visibly starts there ("Title / By Author").
    """
    normed = [normalize_line(line) for line in raw_lines]
    total = sum(len(t) for t in normed) or 1
    out: list[Line] = []
    dropped: list[int] = []
    blank = False
    seen = 0
    for i, text in enumerate(normed):
        seen += len(text)
        if not text:
            blank = True
            continue
        if web and (is_comment_form(text) or (is_social_row(text) and seen > 0.6 * total and not _article_starts_after(normed, i))):
            dropped += [j + 1 for j in range(i, len(normed)) if normed[j]]
            break
        if web and (is_boilerplate_line(text) or text in repeated):
            dropped.append(i + 1)
            blank = True
            continue
        out.append(Line(i + 1, text, blank))
        blank = False
    return out, dropped


def _article_starts_after(normed: Sequence[str], i: int) -> bool:
    return any(_INLINE_BYLINE.match(t) for t in normed[i + 1 :] if t)


_CITATION = re.compile(
    r"^(?:[A-ZÀ-Þ][\w’'-]+(?: [A-ZÀ-Þ][\w’'-]+)*, [A-ZÀ-Þ][^.]{0,60}\.\s?\S"  # Surname, Given. …
    r"|[A-ZÀ-Þ][^.“\"]{1,80}\.\s?[“\"].+[”\"])"  # Organisation. “Title.” …
)
_YEAR = re.compile(rf"\b{YEAR}\b")


def is_citation(text: str) -> bool:
    """A bibliography entry: 'Surname, Given. “Title.” Venue (date)'."""
    return bool(_CITATION.match(text)) and len(words(text)) <= 60


def _drop_reference_list(paras: list[Para]) -> list[Para]:
    """A run of 3+ citations closing an article is its reference list, not its text.

    One short closing line after the run ("Sources: AP, Reuters…") goes with it.
    """
    end = len(paras)
    if end and not is_citation(paras[-1].text) and len(words(paras[-1].text)) <= 25:
        end -= 1
    start = end
    while start > 0 and (is_citation(paras[start - 1].text) or (_YEAR.search(paras[start - 1].text) and len(words(paras[start - 1].text)) <= 40 and start < end)):
        start -= 1
    if sum(1 for p in paras[start:end] if is_citation(p.text)) >= 3:
        return paras[:start]
    return paras


def _is_boilerplate_para(text: str, labels: dict[str, int], web: bool) -> bool:
    """An appeal or a label repeated on the page (web pages only), or a credit line: never a
    paragraph of full sentences by its shape alone (an appeal is known by what it asks)."""
    if web and is_appeal(text):
        return True
    if is_full_sentences(text):
        return False
    return is_photo_credit(text) or (web and labels.get(text, 0) >= 2)


def _drop_boilerplate_paras(paras: Iterable[Para], web: bool = True) -> tuple[list[Para], list[int]]:
    """The paragraphs left, and the numbers of the lines of those dropped."""
    paras = list(paras)
    labels: dict[str, int] = {}
    for p in paras:
        if _is_label(p.text, 8):
            labels[p.text] = labels.get(p.text, 0) + 1
    kept: list[Para] = []
    dropped: list[int] = []
    seen: set[str] = set()
    for p in paras:
        text = p.text
        if _is_boilerplate_para(text, labels, web) or (len(words(text)) >= 8 and text in seen):  # or the same block pasted twice
            dropped += [line.no for line in p.lines]
            continue
        seen.add(text)
        kept.append(p)
    return kept, dropped


# --- articles ----------------------------------------------------------------------------


@dataclass
class Article:
    title: str | None
    title_line: int | None
    byline: str | None
    date: str | None
    body: list[Para]


def _article_starts(paras: Sequence[Para]) -> list[int]:
    """Indexes of paragraphs that open a new article: a title with a byline."""
    starts = [0]
    for i, p in enumerate(paras):
        if i == 0:
            continue
        text = p.text
        inline = _INLINE_BYLINE.match(text) and is_title_like(_INLINE_BYLINE.match(text).group("title"))  # type: ignore[union-attr]
        nxt = paras[i + 1].text if i + 1 < len(paras) else ""
        separate = is_heading(text) and (is_byline(nxt) or (is_name_line(nxt) and i + 2 < len(paras)))
        if inline or separate:
            starts.append(i)
    return starts


def _listing_starts(paras: Sequence[Para]) -> list[int] | None:
    """A listing page (news items: heading + one paragraph, over and over) → item starts."""
    heads = [i for i, p in enumerate(paras) if is_heading(p.text) and i + 1 < len(paras) and not is_heading(paras[i + 1].text)]
    if len(heads) < 3:
        return None
    bounds = heads + [len(paras)]
    single = sum(1 for a, b in zip(bounds, bounds[1:]) if b - a == 2)
    covered = sum(b - a for a, b in zip(bounds, bounds[1:]))
    if single < 0.7 * len(heads) or covered < 0.8 * (len(paras) - heads[0]):
        return None
    return heads


def _kickers(paras: Sequence[Para]) -> int:
    """How many category labels and kicker words ("Peru", "World") stand before a web page's headline."""
    n = 0
    while len(paras) - n >= 3 and len(words(paras[n].text)) <= 2 and is_title_like(paras[n + 1].text) and len(words(paras[n + 1].text)) >= 3:
        n += 1
    return n


def _make_article(paras: list[Para]) -> Article:
    """Title, byline and date from the head of an article's paragraphs; the rest is body."""
    paras = list(paras)
    title = title_line = byline = date = None
    if paras:
        head = paras[0].text
        inline = _INLINE_BYLINE.match(head)
        if inline and is_title_like(inline.group("title")):
            title, byline = inline.group("title").strip(), _strip_by(inline.group("by"))
        elif is_title_like(head) and len(paras) > 1:
            title = _MD_HEADING.sub("", head).strip()
        if title is not None:
            title_line = paras[0].first
            paras.pop(0)
            if is_date_only(title) and is_dateline(title):  # a note headed by its date ("12 March 2024")
                date = date_in(title)
    # byline / date lines right under the headline
    for _ in range(3):
        if not paras:
            break
        text = paras[0].text
        if byline is None and (is_byline(text) or is_name_line(text)) and len(paras) > 1:
            byline = _strip_by(text)
        elif date is None and is_date_only(text) and is_dateline(text) and len(paras) > 1:
            date = date_in(text)
        else:
            break
        paras.pop(0)
    if date is None:
        date = _find_date(paras)
    return Article(title, title_line, byline, date, paras)


def _strip_by(text: str) -> str:
    return re.sub(r"^(?:by|written by|words by|author:?)\s+", "", text.strip(), flags=re.I).strip()


def _find_date(paras: Sequence[Para]) -> str | None:
    """The document's own dateline near the top or closing it (a signature); None when unsure."""
    return dateline_of([p.text for p in paras])


def dateline_of(texts: Sequence[str]) -> str | None:
    """The date of a dateline (`is_dateline`, at most 12 words) among the first three or the
    last two paragraphs of a document's body, else None: a date the text merely mentions, or
    one in the middle of it, is not the document's date."""
    near = list(texts[:3]) + list(texts[-2:])
    for text in near:
        if len(words(text)) <= 12 and is_dateline(text):
            return date_in(text)
    return None


def build_document(article: Article, path: str, n: int, fallback_title: str) -> Document | None:
    """Assemble the clean text (paragraphs joined by a blank line) and its line map."""
    parts: list[str] = []
    spans: list[LineSpan] = []
    pos = 0
    for p in article.body:
        if parts:
            parts.append("\n\n")
            pos += 2
        for j, line in enumerate(p.lines):
            if j:
                parts.append(" ")
                pos += 1
            parts.append(line.text)
            spans.append(LineSpan(pos, pos + len(line.text), line.no))
            pos += len(line.text)
    text = "".join(parts)
    if not text.strip():
        return None
    return Document(
        doc_id=f"{path}#{n}",
        path=path,
        title=article.title or fallback_title,
        text=text,
        spans=tuple(spans),
        byline=article.byline,
        date=article.date,
        title_line=article.title_line,
    )


_FENCE = re.compile(r"^\s*(?:```|~~~)")
_META_LINE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*[:=]\s*(.*?)\s*$")


def front_matter(raw_lines: Sequence[str]) -> tuple[dict[str, str], int]:
    """Metadata of a YAML/TOML front-matter block opening the file, and how many lines it takes.

    Static-site and note-taking tools start Markdown files with `---` / `key: value` lines /
    `---`: data about the page, not its text. The block counts only when every line in it
    looks like metadata, so prose between two rules is never taken for it.
    """
    i = 0
    while i < len(raw_lines) and not raw_lines[i].strip():
        i += 1
    if i >= len(raw_lines) or raw_lines[i].strip() not in ("---", "+++"):
        return {}, 0
    close = raw_lines[i].strip()
    meta: dict[str, str] = {}
    for j in range(i + 1, min(len(raw_lines), i + 100)):
        line = raw_lines[j]
        if line.strip() == close or (close == "---" and line.strip() == "..."):
            return (meta, j + 1) if meta else ({}, 0)
        m = _META_LINE.match(line)
        if m:
            meta.setdefault(m.group(1).lower(), m.group(2).strip("\"'"))
        elif line.strip() and not line.startswith((" ", "\t", "- ")):
            return {}, 0  # a line that is not metadata: this is text, not front matter
    return {}, 0


_PIPE_DELIMITER = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$")
_PIPE_CELL = re.compile(r"[^|]+|(?<=\|)(?=\|)")  # a cell's stretch between pipes (empty ones too)


def _pipe_cells(text: str, at: int) -> list[tuple[int, int] | None]:
    """The cells of a Markdown table line ("| a | b |") in order, as offsets (None: empty)."""
    out: list[tuple[int, int] | None] = []
    inner_start = 1 if text.startswith("|") else 0
    inner_end = len(text) - 1 if text.endswith("|") and len(text) > 1 else len(text)
    for m in _PIPE_CELL.finditer(text, inner_start, inner_end):
        seg = m.group(0)
        a = m.start() + len(seg) - len(seg.lstrip())
        b = m.end() - (len(seg) - len(seg.rstrip()))
        out.append((at + a, at + b) if a < b else None)
    return out


def markdown_table_cells(text: str) -> tuple[tuple[int, int, str], ...]:
    """The cells of the Markdown pipe tables in a document's text (Document.cells: the header
    row's and delimiter row's with "", the others with their column's header): a header line,
    a `| --- | --- |` line, then rows, each line a paragraph of the text."""
    paras: list[tuple[int, str]] = []
    at = 0
    for part in text.split("\n\n"):
        paras.append((at, part))
        at += len(part) + 2
    out: list[tuple[int, int, str]] = []
    i = 0
    while i + 1 < len(paras):
        (h_at, head), (d_at, delim) = paras[i], paras[i + 1]
        header = _pipe_cells(head, h_at) if "|" in head and "\n" not in head else []
        width = len(header)
        if width < 2 or None in header or not _PIPE_DELIMITER.match(delim) or len(_pipe_cells(delim, d_at)) != width:
            i += 1
            continue
        names = [text[a:b] for a, b in header]  # type: ignore[misc]
        out.extend((a, b, "") for a, b in header)  # type: ignore[misc]
        out.extend((a, b, "") for cell in _pipe_cells(delim, d_at) if cell for a, b in [cell])
        i += 2
        while i < len(paras) and "|" in paras[i][1] and "\n" not in paras[i][1]:
            cells = _pipe_cells(paras[i][1], paras[i][0])
            if len(cells) == width:
                out.extend((c[0], c[1], names[k]) for k, c in enumerate(cells) if c is not None)
            i += 1
    return tuple(out)


_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")


def markdown_headings(raw_lines: Sequence[str]) -> list[tuple[int, str]]:
    """(1-based line, heading text) of a Markdown file's headings, in order.

    `#` to `######` headings, and a one-line paragraph underlined with `===` or `---`; lines
    inside fenced code (a `# comment` in a shell block) are not headings. They become the
    document's sections (Document.headings), as a DOCX's or web page's headings do.
    """
    out: list[tuple[int, str]] = []
    in_fence = False
    for i, line in enumerate(raw_lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        atx = _ATX_HEADING.match(line)
        if atx and normalize_line(atx.group(1)):
            out.append((i + 1, normalize_line(atx.group(1))))
        elif _is_setext(raw_lines, i):
            out.append((i + 1, normalize_line(line)))
    return out


def _is_setext(raw_lines: Sequence[str], i: int) -> bool:
    """Is line i a one-line paragraph underlined by the next line (`===` / `---`)?"""
    text = normalize_line(raw_lines[i])
    if not text or i + 1 >= len(raw_lines) or not _SETEXT_UNDERLINE.match(raw_lines[i + 1]):
        return False
    if _MD_BLOCK.match(text) or _SETEXT_UNDERLINE.match(raw_lines[i]):
        return False
    return i == 0 or not normalize_line(raw_lines[i - 1])


def heading_offsets(doc: Document, headings: Sequence[tuple[int, str]]) -> tuple[tuple[int, str], ...]:
    """Headings given by source line, as (offset in doc.text, heading) for Document.headings;
    a heading whose line is not in the text (taken as the title) is left out."""
    first_offset: dict[int, int] = {}
    for span in doc.spans:
        first_offset.setdefault(span.line, span.start)
    return tuple((first_offset[line], h) for line, h in headings if line in first_offset)


@dataclass
class Cleaned:
    """One file's articles, and the lines of the file cleaning dropped (1-based, ascending)."""

    documents: list[Document]
    dropped: tuple[int, ...] = ()


def clean_text(text: str, path: str, repeated: frozenset[str] = frozenset()) -> list[Document]:
    """The articles in one file's decoded text, each a clean Document with its line map."""
    return clean_file(text, path, repeated).documents


def clean_file(text: str, path: str, repeated: frozenset[str] = frozenset()) -> Cleaned:
    """The articles in one file's decoded text, and which of its lines were dropped as
    boilerplate (front matter and fences are layout, not dropped text)."""
    markdown = path.lower().endswith((".md", ".markdown"))
    raw = split_lines(text)
    meta, skip = front_matter(raw)
    heads = markdown_headings([""] * skip + raw[skip:]) if markdown else []
    # lines are blanked, not removed, so every kept line keeps its number in the file
    raw = [""] * skip + [("" if markdown and _FENCE.match(line) else line) for line in raw[skip:]]
    web = looks_like_web_page([normalize_line(line) for line in raw])
    lines, dropped = content_lines(raw, repeated, web)
    paras, dropped_paras = _drop_boilerplate_paras(paragraphs(lines, markdown), web)
    dropped += dropped_paras
    if not paras:
        return Cleaned([], tuple(sorted(dropped)))
    starts = _article_starts(paras)
    groups = [paras[a:b] for a, b in zip(starts, starts[1:] + [len(paras)])]
    if len(groups) == 1:
        listing = _listing_starts(paras)
        if listing:
            lead = paras[: listing[0]]
            groups = [paras[a:b] for a, b in zip(listing, listing[1:] + [len(paras)])]
            if lead:
                groups[0] = lead + groups[0]
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    docs: list[Document] = []
    for group in groups:
        kickers = _kickers(group) if web else 0
        dropped += [line.no for p in group[:kickers] for line in p.lines]
        article = _make_article(group[kickers:])
        body = _drop_reference_list(article.body)
        dropped += [line.no for p in article.body[len(body):] for line in p.lines]
        article.body = body
        if not article.body and article.title:
            # a lone headline with nothing under it: keep its words as the body
            article = Article(None, None, article.byline, article.date, group[kickers : kickers + 1])
        if not docs and meta:  # the page's own metadata describes its first article
            article.title = article.title or meta.get("title") or None
            # the file's own metadata first: a date in its text is at best a dateline
            article.date = date_in(meta.get("date", "")) or meta.get("date") or article.date or None
            article.byline = article.byline or meta.get("author") or meta.get("authors") or None
        doc = build_document(article, path, len(docs) + 1, stem)
        if doc is not None and markdown:  # a pipe table's rows are read with their header (qa.answers.tables); headings are sections
            doc = replace(doc, cells=markdown_table_cells(doc.text), headings=heading_offsets(doc, heads))
        if doc is not None:
            docs.append(doc)
    return Cleaned(docs, tuple(sorted(dropped)))


def repeated_lines(texts: Iterable[list[str]], max_words: int = 12) -> frozenset[str]:
    """Short lines that stand in two or more files: site furniture, not article text."""
    seen: dict[str, int] = {}
    for lines in texts:
        for t in {normalize_line(line) for line in lines}:
            if _is_label(t, max_words):
                seen[t] = seen.get(t, 0) + 1
    return frozenset(t for t, c in seen.items() if c >= 2)
