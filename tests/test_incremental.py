"""Incremental re-indexing (qa.index.incremental via qa.index.folder.build_index): the same index as a full
rebuild, with only new passage texts embedded, and the change counts the user is shown.

Real bundled encoder and real FAISS on a few small files; encoder calls are counted through
build_index's public `encoder` seam, wrapping the real encoder.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SMALL_DOCS, write_corpus

from qa.answers.retrieve import Searcher
from qa.config import ChunkSettings, IndexSettings
from qa.index.encoders import load_encoder
from qa.index.folder import PASSAGES, build_index, index_text, load_index

SETTINGS = IndexSettings()
QUERIES = (
    "How many alpacas were counted in Puno?",
    "When did Misti last erupt?",
    "How high is the La Raya pass?",
    "When is alpaca fleece sheared?",
    "Where do condors nest?",
    "How long is the train journey?",
)
# "Reporting by the Puno field desk" stands in two saved web pages once condor.txt is added: cleaning then
# drops it from alpaca.txt too, whose bytes did not change: reuse must follow the embedded text, not the file
# (the navigation lines make them web pages: only there is a line files share taken for site furniture)
NAV = "Skip to content\nMenu\n\n"
DOCS = {
    **SMALL_DOCS,
    "alpaca.txt": NAV + SMALL_DOCS["alpaca.txt"] + "\nReporting by the Puno field desk\n",
    "quinoa.txt": "Quinoa in the Altiplano\n\nQuinoa grows on the Altiplano around Lake Titicaca at 3,800 metres.\n",
}
CONDOR = NAV + "Condors of the Colca\n\nAndean condors nest on the cliffs of the Colca canyon, 3,000 metres deep.\n\nReporting by the Puno field desk\n"


class CountingEncoder:
    """The real encoder, counting the texts it is asked to embed."""

    def __init__(self, backend: str = SETTINGS.backend) -> None:
        self.inner = load_encoder(backend)
        self.name, self.backend, self.dim = self.inner.name, self.inner.backend, self.inner.dim
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: Any = None) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.encode(texts, batch_size=batch_size, progress=progress)


def edit(corpus: Path) -> None:
    """One file changed, one added, one removed."""
    (corpus / "volcano.md").write_text(
        "# The Misti volcano\n\nMisti is a stratovolcano near Arequipa. Its summit stands 5,822 metres above sea level. "
        "Its last eruption happened in 1985; fumaroles were seen again in 2024.\n",
        encoding="utf-8",
    )
    (corpus / "condor.txt").write_text(CONDOR, encoding="utf-8")
    (corpus / "quinoa.txt").unlink()


def top_pids(index: Any, retriever: str, k: int = 5) -> list[list[str]]:
    searcher = Searcher(index)
    return [[h.passage.pid for h in searcher.search(q, k=k, retriever=retriever)] for q in QUERIES]


@pytest.mark.slow
def test_incremental_equals_full_rebuild(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", DOCS)
    inc_dir, full_dir = tmp_path / "inc", tmp_path / "full"
    first = build_index([corpus], inc_dir, SETTINGS)
    old_texts = {index_text(p) for p in first.passages}
    assert first.manifest["changes"]["incremental"] is False
    edit(corpus)

    counting = CountingEncoder()
    inc = build_index([corpus], inc_dir, SETTINGS, encoder=counting)
    full = build_index([corpus], full_dir, SETTINGS, incremental=False)

    assert (inc_dir / PASSAGES).read_bytes() == (full_dir / PASSAGES).read_bytes()
    assert not any(p.path == "quinoa.txt" for p in inc.passages), "a deleted file leaves the index"
    new_texts = [index_text(p) for p in inc.passages if index_text(p) not in old_texts]
    assert sorted(counting.texts) == sorted(new_texts), "only passages with new embedded text are embedded"
    assert any("alpaca" in t.lower() for t in new_texts), "alpaca.txt's passage changed through cross-file cleaning"
    assert len(new_texts) < len(inc.passages)
    changes = inc.manifest["changes"]
    assert changes == {
        "added": 1, "changed": 1, "removed": 1, "unchanged": 2,
        "embedded": len(new_texts), "reused": len(inc.passages) - len(new_texts), "incremental": True,
    }
    assert set(inc.manifest["corpus"]["file_hashes"]) == set(inc.manifest["corpus"]["files"])
    assert np.allclose(inc.all_vectors(), full.all_vectors(), atol=1e-5)
    loaded = load_index(inc_dir)
    for retriever in ("dense", "bm25", "hybrid"):
        assert top_pids(loaded, retriever) == top_pids(load_index(full_dir), retriever), retriever


@pytest.mark.slow
def test_reused_vectors_are_the_stored_ones(small_corpus: Path, tmp_path: Path) -> None:
    target = tmp_path / "idx"
    first = build_index([small_corpus], target, SETTINGS)
    stored = first.vectors_by_text()
    (small_corpus / "extra.txt").write_text("Llamas carry loads across the Andes.\n", encoding="utf-8")
    counting = CountingEncoder()
    second = build_index([small_corpus], target, SETTINGS, encoder=counting)
    assert counting.texts == ["extra\nLlamas carry loads across the Andes."]  # title (file name) + text
    vectors = second.all_vectors()
    for i, p in enumerate(second.passages):
        if index_text(p) in stored:
            assert np.array_equal(vectors[i], stored[index_text(p)])


@pytest.mark.slow
def test_incompatible_or_forced_builds_embed_everything(small_corpus: Path, tmp_path: Path) -> None:
    target = tmp_path / "idx"
    build_index([small_corpus], target, SETTINGS)
    counting = CountingEncoder()
    forced = build_index([small_corpus], target, SETTINGS, encoder=counting, incremental=False)
    assert len(counting.texts) == len(forced.passages) and not forced.manifest["changes"]["incremental"]
    other = IndexSettings(chunk=ChunkSettings(min_words=10, target_words=20, max_words=40))
    counting = CountingEncoder()
    rechunked = build_index([small_corpus], target, other, encoder=counting)
    assert len(counting.texts) == len(rechunked.passages) and not rechunked.manifest["changes"]["incremental"]


@pytest.mark.slow
def test_damaged_old_index_means_a_full_build(small_corpus: Path, tmp_path: Path) -> None:
    target = tmp_path / "idx"
    build_index([small_corpus], target, SETTINGS)
    (target / "vectors.faiss").write_bytes(b"not faiss")
    counting = CountingEncoder()
    rebuilt = build_index([small_corpus], target, SETTINGS, encoder=counting)
    assert len(counting.texts) == len(rebuilt.passages)
    assert load_index(target).vectors.ntotal == len(rebuilt.passages)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from qa.cli import run

    code = run(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_qa_index_reports_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = write_corpus(tmp_path / "corpus", DOCS)
    target = str(tmp_path / "idx")
    code, out, err = run_cli(["index", str(corpus), "--index-dir", target, "--json"], capsys)
    assert code == 0, err
    first = json.loads(out)
    assert first["status"] == "built" and first["changes"]["added"] == 4 and not first["changes"]["incremental"]

    code, out, err = run_cli(["index", str(corpus), "--index-dir", target, "--json"], capsys)
    again = json.loads(out)
    assert code == 0 and again["status"] == "up to date", err
    assert again["changes"]["added"] == again["changes"]["changed"] == again["changes"]["removed"] == 0
    assert again["changes"]["unchanged"] == 4

    edit(corpus)
    code, out, err = run_cli(["index", str(corpus), "--index-dir", target], capsys)
    assert code == 0, err
    assert "Files: 1 added, 1 changed, 1 removed, 2 unchanged." in out
    assert "embedded" in out and "reused" in out

    code, out, err = run_cli(["index", str(corpus), "--index-dir", target, "--json", "--force"], capsys)
    forced = json.loads(out)
    assert code == 0 and forced["reason"] == "forced" and not forced["changes"]["incremental"], err
    assert forced["changes"]["embedded"] == forced["passages"]


def test_file_change_counts() -> None:
    from qa.index.incremental import file_changes, recorded_hashes

    assert file_changes({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "9", "d": "4"}) == (1, 1, 1, 1)
    assert file_changes(None, {"a": "1"}) == (1, 0, 0, 0)
    # an index from before hashes were recorded: files in both cannot be compared, so "changed"
    old = recorded_hashes({"corpus": {"files": ["a", "b"]}})
    assert file_changes(old, {"a": "1", "c": "2"}) == (1, 1, 1, 0)
    assert recorded_hashes({"corpus": "broken"}) is None


@pytest.mark.slow
def test_automatic_rebuild_of_ask_and_chat_is_incremental(bundled_corpus: Path) -> None:
    """Engine.open rebuilds a stale bundled index through build_index, which reuses vectors."""
    from qa.engine import Engine

    first = Engine.open()
    (bundled_corpus / "extra.txt").write_text("Llamas\n\nLlamas carry loads across the Andes.\n", encoding="utf-8")
    messages: list[str] = []
    second = Engine.open(notify=messages.append)
    changes = second.index.manifest["changes"]
    assert any("rebuilding" in m for m in messages)
    assert changes["incremental"] and changes["added"] == 1 and changes["embedded"] == 1
    assert changes["reused"] == len(first.index.passages)
