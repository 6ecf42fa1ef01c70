"""Sentence encoders of all-MiniLM-L6-v2: one protocol (base), one module per backend, one factory.

`torch` is sentence-transformers (imports torch: seconds); `onnx-int8` is the same model as
int8 ONNX on onnxruntime (the default: no torch import, ≈ 4× faster here). Backends load
lazily, on first use, and once per process.
"""

from __future__ import annotations

import time

from qa.errors import QAError
from qa.index.encoders.base import DIMENSION, MODEL_NAME, Encoder, Progress, bundled_model_dir, longest_first

__all__ = ["DIMENSION", "MODEL_NAME", "BACKENDS", "Encoder", "Progress", "bundled_model_dir", "load_encoder", "longest_first"]

BACKENDS = ("onnx-int8", "torch")

_CACHE: dict[str, Encoder] = {}


def load_encoder(backend: str = "torch") -> Encoder:
    """The encoder for `backend`, loaded once per process."""
    if backend in _CACHE:
        return _CACHE[backend]
    started = time.perf_counter()
    if backend == "torch":
        from qa.index.encoders.torch_backend import TorchEncoder

        enc: Encoder = TorchEncoder.load()
    elif backend == "onnx-int8":
        from qa.index.encoders.onnx_backend import OnnxEncoder

        enc = OnnxEncoder.load()
    else:
        raise QAError(f"unknown encoder backend {backend!r} (choose {' or '.join(BACKENDS)})")
    enc.load_seconds = time.perf_counter() - started  # type: ignore[attr-defined]
    _CACHE[backend] = enc
    return enc
