"""The `torch` backend: sentence-transformers on CPU.

`sentence_transformers` (and torch) cost seconds to import, so they load only here, when
this backend is asked for.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.index.encoders.base import DIMENSION, MODEL_NAME, Progress, bundled_model_dir, longest_first, offline


@dataclass
class TorchEncoder:
    """sentence-transformers on CPU."""

    model: object
    name: str = MODEL_NAME
    backend: str = "torch"
    dim: int = DIMENSION
    batch_size: int = 32  # what index builds use (store.build_index reads it)

    @classmethod
    def load(cls) -> TorchEncoder:
        offline()
        from sentence_transformers import SentenceTransformer

        with contextlib.suppress(ImportError):
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no "Loading weights" bar in the user's terminal
        model = SentenceTransformer(bundled_model_dir(), device="cpu")
        dim_of = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return cls(model=model, dim=int(dim_of() or DIMENSION))

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        done = 0
        for group in longest_first([len(t) for t in texts], batch_size * 4):
            out[group] = self.encode_batch([texts[i] for i in group], batch_size)
            done += len(group)
            if progress:
                progress(done, len(texts))
        return out

    def encode_batch(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """The model call alone (sentence-transformers batches inside it)."""
        vecs = self.model.encode(  # type: ignore[attr-defined]
            list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return vecs.astype(np.float32, copy=False)
