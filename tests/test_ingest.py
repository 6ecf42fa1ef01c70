"""Ingest and cleaning: the seeds come out as clean articles traceable to their lines, and
the general rules hold on synthetic pages (property tests with hypothesis)."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest
from conftest import SEEDS, SMALL_DOCS, words_in_lines, write_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.config import ChunkSettings
from qa.documents.chunk import chunk_documents
from qa.documents.clean import clean_text, is_appeal, is_social_row, normalize_line
from qa.documents.ingest import OUTSIDE, corpus_fingerprint, decode, load_corpus
from qa.errors import UsageError

# Boilerplate lines of the seeds (the things a reader would never call article text).
BOILERPLATE = [
    "Skip to content",
    "Facebook Instagram Twitter YouTube",
    "Facebook Twitter Share",
    "You might be interested in",
    "Your email address will not be published",
    "Required fields are marked",
    "Urgent End Of Year Fundraising Campaign",
    "Online donations are back",
    "Keep independent media alive",
    "Sign Up To Our Daily Digest",
    "Sign up for our daily email digest",
    "your help is needed now to cover the monthly costs",
    # teasers of unrelated articles after the end of 004's article
    "Socialists in Brazil Call for a National Strike",
    "National Guard Seeks to Double Size",
    "All That's Left, the podcast",
]


@pytest.fixture(scope="module")
def seeds():
    return load_corpus([SEEDS])


def _file(name_prefix: str) -> str:
    return next(p.name for p in SEEDS.iterdir() if p.name.startswith(name_prefix))


def test_seeds_give_clean_articles(seeds) -> None:
    assert not seeds.skipped and not seeds.warnings
    assert len(seeds.files) == 5
    by_file: dict[str, list] = {}
    for d in seeds.documents:
        by_file.setdefault(d.path, []).append(d)
    # one file, three articles, each with its headline and author
    three = by_file[_file("001")]
    assert [d.title for d in three] == [
        "Rural-Based Popular Resistance Confounds Peru’s Post-Coup Government",
        "Peru Sees Possible Transformative Change, and US Intervention",
        "The US egged on the coup in Peru",
    ]
    assert [d.title_line for d in three] == [1, 54, 155]
    assert three[0].byline == "W.T. Whitney Jr." and three[2].byline == "Vijay Prashad, José Carlos Llerena"
    assert three[2].date == "December 14, 2022"
    # a headline hard-wrapped over two lines is joined; a headline after navigation is found
    assert by_file[_file("002")][0].title == "Mass protests resume across Peru against the coup regime and social inequality"
    assert by_file[_file("004")][0].title.startswith("The Peruvian Uprising: Massive Protests Demand")
    assert by_file[_file("000")][0].byline == "Bill Young"


def test_no_boilerplate_in_any_passage(seeds) -> None:
    passages = chunk_documents(seeds.documents, ChunkSettings())
    squashed = [re.sub(r"\s+", " ", p.text).lower() for p in passages]
    for phrase in BOILERPLATE:
        assert not any(phrase.lower() in text for text in squashed), phrase


def test_hard_wrapped_lines_are_joined(seeds) -> None:
    doc = next(d for d in seeds.documents if d.path == _file("002"))
    # the wrapped sentence reads whole, and no paragraph is a lone wrapped fragment
    assert "the shutdown of Congress and general elections, protesters are increasingly advancing social demands" in doc.text
    assert all(len(p.split()) > 3 or p.strip()[-1:] in ".!?”\"" for p in doc.text.split("\n\n")[:-1])
    assert "\u00a0" not in doc.text


def test_a_short_file_wrapped_mid_sentence_is_one_paragraph(tmp_path: Path) -> None:
    """Too few lines to measure a wrap width: a line cut after "of" or a comma goes on, even
    when the next line starts with a name; a short title and finished sentences do not."""
    write_corpus(tmp_path / "c", {
        "w.txt": "History of Widgets\n\nThe first widget factory was opened in the town of\nSpringfield by Marjorie Quill in the year 1911, and it\nproduced eight hundred widgets a day.\n",
        "list.txt": "Things to pack\n\nA warm coat for the nights in the high Andes\nSun cream for the long days on the lake shore\n",
    })
    docs = {d.path: d.text for d in load_corpus([tmp_path / "c"]).documents}
    assert docs["w.txt"] == "The first widget factory was opened in the town of Springfield by Marjorie Quill in the year 1911, and it produced eight hundred widgets a day."
    assert docs["list.txt"].split("\n\n") == ["A warm coat for the nights in the high Andes", "Sun cream for the long days on the lake shore"]


def test_every_seed_passage_is_in_its_lines(seeds) -> None:
    raw = {f: (SEEDS / f).read_text(encoding="utf-8") for f in seeds.files}
    for p in chunk_documents(seeds.documents, ChunkSettings()):
        assert p.text.strip(), p.pid
        assert words_in_lines(p.text, raw[p.path], p.line_start, p.line_end), p.pid


def test_passages_rebuild_each_document(seeds) -> None:
    """Joining passages minus their overlaps gives back the whole cleaned document."""
    passages = chunk_documents(seeds.documents, ChunkSettings())
    for doc in seeds.documents:
        mine = [p for p in passages if p.doc_id == doc.doc_id]
        covered = 0
        for p in mine:
            assert p.start <= covered <= p.end or not doc.text[covered : p.start].strip(), p.pid
            covered = max(covered, p.end)
        assert not doc.text[covered:].strip()


def test_title_line_points_at_the_title(seeds) -> None:
    for d in seeds.documents:
        if d.title_line is not None:
            line = normalize_line((SEEDS / d.path).read_text(encoding="utf-8").splitlines()[d.title_line - 1])
            assert d.title.split()[0] in line, d.doc_id


def test_fingerprint_changes_with_content(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Hello there, a first line of text.\n", encoding="utf-8")
    before = corpus_fingerprint([tmp_path])
    assert before == corpus_fingerprint([tmp_path])
    (tmp_path / "a.txt").write_text("Hello there, a changed line of text.\n", encoding="utf-8")
    assert corpus_fingerprint([tmp_path]) != before


def test_encodings_and_binaries(tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes("Arequipa está en el sur del Perú, cerca del volcán.".encode("latin-1"))
    (tmp_path / "utf16.txt").write_text("Puno is on the shore of Lake Titicaca.", encoding="utf-16")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (tmp_path / "nul.txt").write_bytes(b"abc\x00\x01\x02\x03" * 100)
    (tmp_path / "empty.md").write_text("  \n\n", encoding="utf-8")
    corpus = load_corpus([tmp_path])
    texts = {d.path: d.text for d in corpus.documents}
    assert "volcán" in texts["latin.txt"] and "Titicaca" in texts["utf16.txt"]
    reasons = {s.path: s.reason for s in corpus.skipped}
    assert set(reasons) == {"image.txt", "nul.txt", "empty.md"}
    assert "binary" in reasons["image.txt"] and "empty" in reasons["empty.md"]
    assert any(w.startswith("latin.txt:") for w in corpus.warnings)


def _junk(bom: bytes, seed: int) -> bytes:
    """A byte-order mark, then 3,000 random bytes without NULs (which alone would say binary)."""
    rng = random.Random(seed)
    return bom + bytes(rng.randrange(1, 256) for _ in range(3000))


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"], ids=["utf-8", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_binary_behind_a_byte_order_mark_is_skipped(tmp_path: Path, bom: bytes, seed: int) -> None:
    data = _junk(bom, seed)
    assert decode(data)[0] is None and "binary file" in (decode(data)[1] or "")
    (tmp_path / "ok.txt").write_text(SMALL_DOCS["alpaca.txt"], encoding="utf-8")
    (tmp_path / "junk.txt").write_bytes(data)
    corpus = load_corpus([tmp_path])
    assert [s.reason.split(" (")[0] for s in corpus.skipped if s.path == "junk.txt"] == ["binary file"]
    assert {d.path for d in corpus.documents} == {"ok.txt"} and not corpus.warnings


# real text, odd but readable -> words it must decode to
REAL_TEXTS = {
    "a few bad bytes": (("Puno is on Lake Titicaca. " * 20).encode() + b"\xff\x81\x8d the end.\n", "Puno is on Lake Titicaca."),
    "bad bytes after a BOM": (b"\xef\xbb\xbf" + ("Cusco was the Inca capital. " * 20).encode() + b"\xc3\x28 more.\n", "Inca capital"),
    "latin-1": ("Arequipa está en el sur del Perú, cerca del volcán. Ñandú, año.".encode("latin-1"), "cerca del volcán"),
    "utf-16 with a BOM": ("Puno is on the shore of Lake Titicaca. Café, año.".encode("utf-16"), "Café, año"),
    "utf-16-be without a BOM": ("Vicuñas graze near Arequipa at 4,000 metres.".encode("utf-16-be"), "Vicuñas graze"),
    "emoji": ("Llamas 🦙 on the mountain 🏔️ at dawn 🌄 with alpacas 🦙🦙.".encode(), "🦙🦙"),
    "cjk": ("秘鲁的首都是利马。的的喀喀湖位于秘鲁和玻利维亚之间。ペルーの首都はリマです。".encode(), "ペルーの首都"),
    "cjk as utf-16": ("秘鲁的首都是利马。的的喀喀湖位于秘鲁和玻利维亚之间。".encode("utf-16"), "玻利维亚"),
    "tabs, form feeds and a bell": (b"Page one\tcolumn\f\nPage two \x07 text about rivers in the south.\r\n", "rivers in the south"),
}


@pytest.mark.parametrize("name", sorted(REAL_TEXTS))
def test_real_text_is_not_taken_for_binary(name: str) -> None:
    data, words = REAL_TEXTS[name]
    text, note = decode(data)
    assert text is not None and words in text, note


def test_symlink_to_a_corpus_file_is_read_once_under_its_real_name(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c")
    outside = write_corpus(tmp_path / "elsewhere", {"far.txt": SMALL_DOCS["volcano.md"]})
    os.symlink("volcano.md", corpus / "a-copy.md")  # sorts before the file it points at
    os.symlink("../volcano.md", corpus / "sub" / "again.md")
    os.link(corpus / "alpaca.txt", corpus / "hard.txt")  # the same inode under a second real name
    os.symlink(outside / "far.txt", corpus / "far.txt")  # outside the corpus: read once, by its link, if links are followed
    got = load_corpus([corpus], follow_links=True)
    assert got.files == ("alpaca.txt", "far.txt", "sub/rail.txt", "volcano.md")
    reasons = {s.path: s.reason for s in got.skipped}
    assert reasons == {"a-copy.md": "same file as volcano.md", "sub/again.md": "same file as volcano.md", "hard.txt": "same file as alpaca.txt"}
    by_default = load_corpus([corpus])
    assert by_default.files == ("alpaca.txt", "sub/rail.txt", "volcano.md")
    assert {s.path: s.reason for s in by_default.skipped} == {**reasons, "far.txt": OUTSIDE}
    assert load_corpus([corpus / "a-copy.md", corpus / "volcano.md"]).files == ("volcano.md",)


def test_folder_symlink_is_skipped_for_its_real_folder(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c", {"real/inner.txt": SMALL_DOCS["alpaca.txt"]})
    os.symlink("real", corpus / "alias")  # "alias" sorts before "real"
    os.symlink("..", corpus / "real" / "up")
    got = load_corpus([corpus])
    assert got.files == ("real/inner.txt",) and [d.path for d in got.documents] == ["real/inner.txt"]
    reasons = {s.path: s.reason for s in got.skipped}
    assert reasons["alias"] == "same folder as real" and reasons["real/up"].startswith("symlink loop")
    assert len(reasons) == 2


@pytest.mark.parametrize("extra", ["{c}", "{c}/../{c}", "./{c}/", "{c}/sub/..", "link"])
def test_a_root_given_twice_is_read_once_under_its_plain_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str) -> None:
    monkeypatch.chdir(tmp_path)
    write_corpus(tmp_path / "c4")
    os.symlink("c4", tmp_path / "link")
    alone = load_corpus(["c4"])
    both = load_corpus(["c4", extra.format(c="c4")])
    assert both.files == alone.files == ("alpaca.txt", "sub/rail.txt", "volcano.md")
    assert both.documents == alone.documents and both.root == alone.root == str(tmp_path / "c4")
    assert not both.skipped


def test_a_root_with_dots_is_the_plain_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_corpus(tmp_path / "c4")
    dotted = load_corpus(["c4/../c4"])
    assert dotted.root == str(tmp_path / "c4") and dotted == load_corpus(["c4"])


def test_fifo_named_directly_says_it_is_a_fifo(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c")
    os.mkfifo(corpus / "pipe.txt")
    in_folder = {s.path: s.reason for s in load_corpus([corpus]).skipped}
    direct = {s.path: s.reason for s in load_corpus([corpus / "pipe.txt"]).skipped}
    assert direct == in_folder == {"pipe.txt": "not a regular file (a FIFO)"}


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        load_corpus([tmp_path / "nope"])


def test_decode_prefers_utf8() -> None:
    assert decode("Lima — Perú".encode()) == ("Lima — Perú", None)


def test_rules_are_about_shape_not_sites() -> None:
    assert is_social_row("Share on Facebook Twitter WhatsApp")
    assert not is_social_row("Facebook said on Monday it would remove the posts.")
    assert is_appeal("Please donate today and subscribe to our newsletter to keep us going.")
    assert not is_appeal("The union collected donations for the families of the victims, the mayor said on Friday in Juliaca.")


def test_page_furniture_is_dropped() -> None:
    page = "\n".join(
        [
            "Skip to content",
            "Share on Facebook Twitter",
            "",
            "Water Crisis Deepens in the Valley",
            "",
            "By Maria Lopez",
            "",
            "The river has been dry for 40 days, farmers in the valley said on Monday.",
            "You might be interested in: Ten Recipes for Summer",
            "Officials promised trucks of water by the end of the month.",
            "",
            "Facebook Twitter Share",
            "Another Story Entirely",
            "Joe Bloggs",
            "January 24, 2023",
        ]
    )
    (doc,) = clean_text(page, "page.txt")
    assert doc.title == "Water Crisis Deepens in the Valley" and doc.byline == "Maria Lopez"
    assert doc.text == (
        "The river has been dry for 40 days, farmers in the valley said on Monday.\n\n"
        "Officials promised trucks of water by the end of the month."
    )
    assert doc.lines_for(0, 10) == (8, 8) and doc.lines_for(doc.text.index("Officials"), len(doc.text)) == (10, 10)


def test_several_articles_in_one_file() -> None:
    page = (
        "First Headline Here / By Ann Author\n\nBody one is a sentence about rain. It rained.\n\n"
        "Second Headline There / By Bo Writer\n\nBody two talks about the sun. It shone.\n"
    )
    docs = clean_text(page, "two.txt")
    assert [(d.title, d.byline, d.title_line) for d in docs] == [
        ("First Headline Here", "Ann Author", 1),
        ("Second Headline There", "Bo Writer", 5),
    ]


# --- property tests: synthetic hard-wrapped pages --------------------------------------

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzÁéñ", min_size=1, max_size=9)
_sentence = st.lists(_word, min_size=3, max_size=14).map(lambda ws: " ".join(ws).capitalize() + ".")
_paragraph = st.lists(_sentence, min_size=1, max_size=5).map(" ".join)


def _wrap(text: str, width: int, nbsp: bool, blank_between: bool) -> list[str]:
    lines, cur = [], ""
    for w in text.split():
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            sep = ("\u00a0" if nbsp else " ") if cur else ""
            cur = f"{cur}{sep}{w}"
    lines.append(cur)
    return [x for line in lines for x in ([line, ""] if blank_between else [line])]


@settings(max_examples=60, deadline=None)
@given(
    paras=st.lists(_paragraph, min_size=1, max_size=6, unique=True),  # a pasted-twice block is dropped by design
    width=st.integers(30, 100),
    nbsp=st.booleans(),
    blank_between=st.booleans(),
    crlf=st.booleans(),
)
def test_wrapped_text_round_trips(paras: list[str], width: int, nbsp: bool, blank_between: bool, crlf: bool) -> None:
    lines: list[str] = []
    for p in paras:
        lines += _wrap(p, width, nbsp, blank_between) + ["", ""]
    raw = ("\r\n" if crlf else "\n").join(lines)
    docs = clean_text(raw, "w.txt")
    body = " ".join(d.text for d in docs)
    # nothing lost, nothing invented, nothing reordered (a headline may be lifted out as title)
    got = " ".join(((d.title + " ") if d.title_line else "") + d.text for d in docs).split()
    assert got == " ".join(paras).split()
    for d in docs:
        for p in chunk_documents([d], ChunkSettings(min_words=5, target_words=12, max_words=20)):
            assert p.text.strip()
            assert words_in_lines(p.text, raw, p.line_start, p.line_end)
    assert body == " ".join(d.text for d in clean_text(raw, "w.txt"))  # deterministic


def test_reference_list_closing_an_article_is_dropped() -> None:
    page = "\n\n".join(
        [
            "A Headline About Rivers",
            "Rivers in the south rose by two metres in March, officials said.",
            "Smith, John. “Floods of the South.” Water Review (May 2, 2021)",
            "Doe, Jane. Rivers and Rain. Lima: Andes Press, 2019.",
            "Institute of Hydrology. “Annual report 2022.” (2023)",
            "Sources: AP, Reuters",
        ]
    )
    (doc,) = clean_text(page, "r.txt")
    assert doc.text == "Rivers in the south rose by two metres in March, officials said."


FRONT_MATTER_PAGE = """---
title: "Llamas in the city"
date: 2023-02-01
author: Ana Ruiz
tags:
  - andes
---

Llamas were seen in the main square of Cusco on Monday. The herd had 14 animals.

```python
print("hello")
```

The owner said they come every week.
"""


def test_front_matter_is_metadata_not_text() -> None:
    (doc,) = clean_text(FRONT_MATTER_PAGE, "post.md")
    assert (doc.title, doc.date, doc.byline) == ("Llamas in the city", "2023-02-01", "Ana Ruiz")
    assert "title:" not in doc.text and "---" not in doc.text and "```" not in doc.text
    assert 'print("hello")' in doc.text  # code is kept, its fence markers are layout
    raw = FRONT_MATTER_PAGE.splitlines()
    first = doc.spans[0]
    assert raw[first.line - 1].startswith("Llamas were seen")  # line numbers still point into the file


def test_prose_between_rules_is_not_front_matter() -> None:
    page = "---\nThe herd walked into town. Nobody stopped it.\n---\n\nMore text about llamas and the town.\n"
    docs = clean_text(page, "note.md")
    assert any("The herd walked into town." in d.text for d in docs)
