"""Cleaning drops web-page furniture and nothing else: prose in notes, forum posts and articles
written one per file is kept whole, and what is dropped is counted per file.

The content-kept check writes public SQuAD and SQuADShifts paragraphs one per file (text a
person wrote, no page furniture in it) and calls the cleaning directly: no word may be lost.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from conftest import write_corpus

from qa.documents.clean import clean_file, clean_text, normalize_line, repeated_lines, split_lines
from qa.documents.ingest import load_corpus


def _words(text: str) -> list[str]:
    return " ".join(normalize_line(line) for line in split_lines(text)).split()


def _kept_words(text: str, path: str, repeated: frozenset[str] = frozenset()) -> tuple[list[str], tuple[int, ...]]:
    """The words of the file's documents (titles, bylines and dates are its words too) and the
    line numbers cleaning dropped."""
    cleaned = clean_file(text, path, repeated)
    out: list[str] = []
    for d in cleaned.documents:
        for part in (d.title if d.title_line else None, d.byline, d.text):
            out += (part or "").split()
    return out, cleaned.dropped


POST = (
    "Email notifications for blog subscribers\n\n"
    "Since the last update, subscribers to a blog get an email for each new post, and some of them "
    "asked us to send a weekly newsletter instead. You can change this under Settings, where a "
    "subscription can be paused or turned into a daily digest.\n"
)
FORMULA = (
    "The quadratic formula gives the roots of a second-degree polynomial. For the equation\n\n"
    "{\\displaystyle x^{2}+px+q=0}\n\n"
    "the two roots are real when the discriminant is not negative. The formula was known to "
    "Brahmagupta, who wrote it in words; with the same equation\n\n"
    "{\\displaystyle x^{2}+px+q=0}\n\n"
    "written for p = 0 it reduces to taking a square root.\n"
)


def test_a_forum_post_about_subscriptions_is_kept_whole() -> None:
    """It was dropped whole ("no text left after removing boilerplate"): the donation and
    newsletter rule matched a post written by a person, in full sentences, in a plain file."""
    kept, dropped = _kept_words(POST, "post-17.txt")
    assert kept == _words(POST) and dropped == ()


def test_formula_lines_of_an_article_are_kept() -> None:
    """A formula line standing twice in an article was taken for a repeated page label, and a
    formula line two files share for site furniture."""
    kept, dropped = _kept_words(FORMULA, "quadratic.txt")
    assert sorted(kept) == sorted(_words(FORMULA)) and dropped == ()
    other = "Completing the square\n\nThe equation\n\n{\\displaystyle x^{2}+px+q=0}\n\nis rewritten as a square plus a constant.\n"
    repeated = repeated_lines(split_lines(t) for t in (FORMULA, other))
    for name, text in (("quadratic.txt", FORMULA), ("square.txt", other)):
        kept, dropped = _kept_words(text, name, repeated)
        assert sorted(kept) == sorted(_words(text)) and dropped == (), name


def test_a_line_several_notes_share_is_kept(tmp_path: Path) -> None:
    """A folder of notes: a line that three notes share ("Ask Ana about the budget") is a
    note, not site furniture, outside a saved web page."""
    notes = {f"note-{i}.txt": f"Meeting {i} with the water board\n\nAsk Ana about the budget\n\nThe board met on day {i} and agreed on repairs.\n" for i in range(3)}
    corpus = load_corpus([write_corpus(tmp_path / "notes", notes)])
    texts = {d.path: d.text for d in corpus.documents}
    assert all("Ask Ana about the budget" in texts[name] for name in notes), texts
    assert corpus.dropped_lines == {}


WEB_PAGE = "\n".join([
    "Skip to content",
    "Share on Facebook Twitter",
    "",
    "Water Crisis Deepens in the Valley",
    "",
    "The river has been dry for 40 days, farmers in the valley said on Monday.",
    "You might be interested in: Ten Recipes for Summer",
    "Officials promised trucks of water by the end of the month.",
    "",
    "Sign up for our newsletter",
    "Facebook Twitter Share",
])


def test_a_saved_web_page_still_loses_its_furniture_and_says_how_many_lines(tmp_path: Path) -> None:
    cleaned = clean_file(WEB_PAGE, "page.txt")
    (doc,) = cleaned.documents
    assert doc.text == "The river has been dry for 40 days, farmers in the valley said on Monday.\n\nOfficials promised trucks of water by the end of the month."
    assert cleaned.dropped == (1, 2, 7, 10, 11)
    corpus = load_corpus([write_corpus(tmp_path / "c", {"page.txt": WEB_PAGE, "post.txt": POST})])
    assert corpus.dropped_lines == {"page.txt": 5}


def test_clean_text_is_the_documents_of_clean_file() -> None:
    assert clean_text(WEB_PAGE, "page.txt") == clean_file(WEB_PAGE, "page.txt").documents


# ----------------------------------------------------------------- public paragraphs, one a file


def _paragraphs(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [p["context"] for article in data["data"] for p in article["paragraphs"]]


def _public_paragraphs(bench: Path) -> dict[str, list[str]]:
    files = [bench / "squad-train-v1.1.json", *sorted((bench / "squadshifts").glob("*.json"))]
    return {f.name: _paragraphs(f) for f in files}


def _assert_nothing_dropped(paragraphs: list[str]) -> None:
    """Each paragraph one .txt file, as a folder of them is read (shared lines computed over all)."""
    texts = {f"p{i:06d}.txt": text + "\n" for i, text in enumerate(paragraphs)}
    repeated = repeated_lines(split_lines(t) for t in texts.values())
    lost = []
    for name, text in texts.items():
        kept, dropped = _kept_words(text, name, repeated)
        if dropped or sorted(kept) != sorted(_words(text)):
            lost.append((name, dropped, text[:120]))
    assert not lost, f"{len(lost)} of {len(texts)} paragraphs lost words, e.g. {lost[:3]}"


@pytest.mark.bench("squad-train-v1.1.json", "squadshifts/*.json")
def test_public_paragraphs_lose_no_word_sample() -> None:
    """A seeded sample of 300 paragraphs of each file: no word dropped by cleaning."""
    from qa.eval.squad_split import bench_dir

    rng = random.Random(0)
    for name, paragraphs in _public_paragraphs(bench_dir()).items():
        _assert_nothing_dropped(rng.sample(paragraphs, min(300, len(paragraphs))))


@pytest.mark.slow
@pytest.mark.bench("squad-train-v1.1.json", "squadshifts/*.json")
def test_public_paragraphs_lose_no_word_all() -> None:
    """Every paragraph of SQuAD train and both SQuADShifts files (about 28,000)."""
    from qa.eval.squad_split import bench_dir

    for name, paragraphs in _public_paragraphs(bench_dir()).items():
        _assert_nothing_dropped(paragraphs)


@pytest.mark.slow
def test_qa_index_says_per_file_how_many_lines_were_dropped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`qa index --json` gives the count per file, `--verbose` lists it; the post loses none."""
    from conftest import run_cli

    corpus = write_corpus(tmp_path / "c", {"page.txt": WEB_PAGE, "post.txt": POST})
    code, out, err = run_cli(["index", str(corpus), "--index-dir", str(tmp_path / "i"), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["dropped_lines"] == {"page.txt": 5}
    code, out, err = run_cli(["index", str(corpus), "--index-dir", str(tmp_path / "i"), "--force", "--verbose"], capsys)
    assert code == 0, err
    listed = [line.strip() for line in out.splitlines() if "dropped" in line]
    assert listed == ["page.txt: 5 lines dropped as web-page boilerplate", "5 lines dropped as web-page boilerplate in 1 file."], out
    code, out, err = run_cli(["index", str(corpus), "--index-dir", str(tmp_path / "i"), "--verbose"], capsys)  # up to date
    assert code == 0 and "up to date" in out and "page.txt: 5 lines dropped" in out, out
