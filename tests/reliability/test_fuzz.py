"""Fuzz ingest → clean → chunk with random Unicode: no exception, no empty passage, every
passage's words in its claimed lines of the raw file, the same output twice.

CI runs a bounded number of examples; set QA_FUZZ_EXAMPLES (e.g. 3000) for a longer run:
    QA_FUZZ_EXAMPLES=3000 python -m pytest tests/reliability/test_fuzz.py -q
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from conftest import words_in_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.config import ChunkSettings
from qa.documents.chunk import chunk_documents
from qa.documents.clean import clean_text
from qa.documents.ingest import decode, load_corpus

EXAMPLES = int(os.environ.get("QA_FUZZ_EXAMPLES", "150"))
SMALL = ChunkSettings(min_words=4, target_words=10, max_words=16)

# the characters documents really bring: odd spaces and breaks, invisibles, bidi marks,
# controls, combining marks, emoji, other scripts, sentence punctuation
SPECIAL = (
    " \t\n\r\r\n\x0b\x0c\x85\u2028\u2029\u00a0\u2007\u202f\u3000"
    "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\x00\x01\x07\x08\x1b\x7f\x80\x9f"
    "\u0301\u0308e\u0301"
    "🦙🏔️👩‍👩‍👧🇵🇪"
    "مرحبا שלום 普诺 Ñandú Ωμέγα"
    ".!?…\"'“”‘’()[]{}-—#*>|:;,"
)
WORD = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
PIECE = st.one_of(
    WORD,
    st.sampled_from(SPECIAL),
    st.sampled_from(["Alpacas", "live", "in", "Puno.", "The", "herd", "counted", "340", "animals", "in", "2021.", "By", "Ana", "Ruiz", "Share", "Facebook"]),
    st.sampled_from(["\n", "\n\n", "\r\n", "\r", " ", "  ", "\u00a0"]),
)
SEP = st.sampled_from([" ", " ", " ", " ", "", "\n", "\n\n", "\r\n", ". ", ".\n\n", "\u00a0", "\t"])
FLAT = st.lists(st.tuples(PIECE, SEP).map("".join), max_size=200).map("".join)
# page-shaped text too (lines in paragraphs), so documents are long enough for several passages
LINE = st.lists(st.tuples(PIECE, st.sampled_from([" ", " ", " ", ". ", "\u00a0"])).map("".join), min_size=1, max_size=30).map("".join)
EOL = st.sampled_from(["\n", "\r\n", "\r", "\u2028"])
PARAGRAPH = st.tuples(st.lists(LINE, min_size=1, max_size=6), EOL).map(lambda le: le[1].join(le[0]))
PAGE = st.tuples(st.lists(PARAGRAPH, min_size=1, max_size=10), st.sampled_from(["\n\n", "\r\n\r\n", "\n \n", "\n\n\n"])).map(
    lambda pe: pe[1].join(pe[0])
)
RAW = st.one_of(FLAT, PAGE)


def _pipeline(raw: str, name: str) -> list[tuple[str, int, int, str]]:
    docs = clean_text(raw, name)
    return [(p.text, p.line_start, p.line_end, p.pid) for p in chunk_documents(docs, SMALL)]


def _check(raw: str, name: str) -> None:
    first = _pipeline(raw, name)
    for text, line_start, line_end, _ in first:
        assert text.strip(), "empty passage"
        assert 1 <= line_start <= line_end
        assert words_in_lines(text, raw, line_start, line_end), (text, line_start, line_end)
    assert _pipeline(raw, name) == first, "not deterministic"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=RAW, markdown=st.booleans())
def test_clean_and_chunk_random_text(raw: str, markdown: bool) -> None:
    _check(raw, "f.md" if markdown else "f.txt")


@settings(max_examples=max(20, EXAMPLES // 3), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=RAW, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252"]), junk=st.binary(max_size=64))
def test_read_random_files(raw: str, encoding: str, junk: bytes) -> None:
    """Whole files through load_corpus: any bytes, any encoding — indexed or skipped, never raised."""
    data = raw.encode(encoding, errors="replace") + (junk if encoding == "latin-1" else b"")
    text, note = decode(data)
    assert text is not None or note, "a skipped file always has a reason"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.txt"
        path.write_bytes(data)
        once = load_corpus([Path(tmp)])
        twice = load_corpus([Path(tmp)])
    assert once == twice
    if once.documents:
        assert text is not None
        _check(text, "doc.txt")
    else:
        assert len(once.skipped) == 1 and once.skipped[0].reason and "\n" not in once.skipped[0].reason
