"""BM25 over passages with `bm25s` (English stopwords, Snowball stemming).

Kept apart from dense retrieval so each can be evaluated alone; saved with bm25s's own
numpy/JSON format (no pickle) next to the FAISS file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _tokenizer():  # type: ignore[no-untyped-def]
    import bm25s
    import Stemmer

    return bm25s.tokenization.Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english"))


def make_tokenizer():  # type: ignore[no-untyped-def]
    """A fresh tokenizer as the BM25 index uses (other stores weigh terms with the same one)."""
    return _tokenizer()


class Bm25Index:
    """A bm25s retriever plus the tokenizer whose vocabulary its ids refer to."""

    def __init__(self, retriever, tokenizer) -> None:  # type: ignore[no-untyped-def]
        self._retriever = retriever
        self._tokenizer = tokenizer

    @classmethod
    def build(cls, texts: Sequence[str]) -> Bm25Index:
        import bm25s

        tokenizer = _tokenizer()
        ids = tokenizer.tokenize(list(texts), return_as="tuple", show_progress=False)
        retriever = bm25s.BM25()
        retriever.index(ids, show_progress=False)
        return cls(retriever, tokenizer)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._retriever.save(str(folder))
        self._tokenizer.save_vocab(str(folder))

    @classmethod
    def load(cls, folder: Path) -> Bm25Index:
        import bm25s

        retriever = bm25s.BM25.load(str(folder), allow_pickle=False)
        tokenizer = _tokenizer()
        tokenizer.load_vocab(str(folder))
        return cls(retriever, tokenizer)

    def nbytes(self) -> int:
        """Bytes held by bm25s's score arrays (CSC): what `qa bench` reports as the BM25 index size."""
        arrays = getattr(self._retriever, "scores", {})
        return sum(int(v.nbytes) for v in arrays.values() if hasattr(v, "nbytes"))

    @property
    def size(self) -> int:
        return int(self._retriever.scores["num_docs"])

    def query_ids(self, query: str) -> list[int]:
        ids = self._tokenizer.tokenize(
            [query], update_vocab=False, return_as="ids", show_progress=False
        )[0]
        vocab_size = len(self._retriever.scores["indptr"]) - 1
        return [i for i in ids if 0 <= i < vocab_size]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (zeros when no query term is known)."""
        ids = self.query_ids(query)
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(ids), dtype=np.float32)
