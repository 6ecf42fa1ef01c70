"""The index directory: round-trip, stale detection, atomic builds, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from qa.config import IndexSettings
from qa.errors import IndexProblem
from qa.index.folder import MANIFEST, PASSAGES, build_index, load_index, read_manifest, staleness

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def test_round_trip(small_corpus: Path, tmp_path: Path) -> None:
    target = tmp_path / "idx"
    built = build_index([small_corpus], target, IndexSettings())
    loaded = load_index(target)
    assert loaded.passages == built.passages
    assert loaded.vectors.ntotal == len(built.passages) == loaded.manifest["counts"]["passages"]
    assert np.allclose(
        loaded.vectors.reconstruct_n(0, loaded.vectors.ntotal),
        built.vectors.reconstruct_n(0, built.vectors.ntotal),
    )
    m = loaded.manifest
    assert m["model"] == "all-MiniLM-L6-v2" and m["dimension"] == 384
    assert m["chunk"] == IndexSettings().chunk.to_json()
    assert m["counts"]["files"] == 3 and m["counts"]["documents"] == 3
    assert {p.path for p in loaded.passages} == {"alpaca.txt", "volcano.md", "sub/rail.txt"}
    assert not list(tmp_path.glob(".idx.tmp-*")), "no temp dir left behind"


def test_stale_after_corpus_change(small_corpus: Path, tmp_path: Path) -> None:
    target = tmp_path / "idx"
    build_index([small_corpus], target, IndexSettings())
    manifest = read_manifest(target)
    assert staleness(manifest, [small_corpus], IndexSettings()) is None
    (small_corpus / "alpaca.txt").write_text("Alpacas moved to Cusco in 2022.\n", encoding="utf-8")
    assert "changed" in (staleness(manifest, [small_corpus], IndexSettings()) or "")
    (small_corpus / "new.txt").write_text("A new file about llamas.\n", encoding="utf-8")
    assert staleness(manifest, [small_corpus], IndexSettings()) is not None


def test_other_settings_are_stale(small_corpus: Path, tmp_path: Path) -> None:
    from qa.config import ChunkSettings

    target = tmp_path / "idx"
    build_index([small_corpus], target, IndexSettings())
    manifest = read_manifest(target)
    other = IndexSettings(chunk=ChunkSettings(min_words=10, target_words=20, max_words=40))
    assert "chunking" in (staleness(manifest, [small_corpus], other) or "")
    assert "model" in (staleness(manifest, [small_corpus], IndexSettings(model="other-model")) or "")


def test_engine_refuses_stale_foreign_index(small_corpus: Path, tmp_path: Path) -> None:
    from qa.engine import Engine

    target = tmp_path / "idx"
    build_index([small_corpus], target, IndexSettings())
    (small_corpus / "volcano.md").write_text("# Changed\n\nNothing about volcanoes now.\n", encoding="utf-8")
    with pytest.raises(IndexProblem, match=r"out of date.*qa index"):
        Engine.open([small_corpus], target)


def test_broken_manifests_are_refused(small_corpus: Path, tmp_path: Path) -> None:
    target = tmp_path / "idx"
    build_index([small_corpus], target, IndexSettings())
    mpath = target / MANIFEST
    good = mpath.read_text()
    mpath.write_text("{not json")
    with pytest.raises(IndexProblem, match="not valid JSON"):
        load_index(target)
    mpath.write_text(json.dumps({**json.loads(good), "schema_version": 999}))
    with pytest.raises(IndexProblem, match="schema version"):
        load_index(target)
    mpath.write_text(good)
    lines = (target / PASSAGES).read_text().splitlines()
    (target / PASSAGES).write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(IndexProblem, match="inconsistent"):
        load_index(target)


KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import qa.index.folder as store
    from qa.config import IndexSettings
    where = sys.argv[3]
    if where == "swap":
        store._swap_in = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
    else:
        import qa.index.encoders as encoders
        cls = type(encoders.load_encoder(IndexSettings().backend))  # whichever encoder builds use
        real = cls.encode
        def dying(self, texts, batch_size=32, progress=None):
            real(self, texts[:1], batch_size)
            os.kill(os.getpid(), signal.SIGKILL)
        cls.encode = dying
    store.build_index([Path(sys.argv[1])], Path(sys.argv[2]), IndexSettings())
    """
)


@pytest.mark.parametrize("where", ["embed", "swap"])
def test_killed_build_leaves_old_index_usable(small_corpus: Path, tmp_path: Path, where: str) -> None:
    target = tmp_path / "idx"
    old = build_index([small_corpus], target, IndexSettings())
    (small_corpus / "extra.txt").write_text("Quinoa grows well at altitude in the Andes.\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(small_corpus), str(target), where],
        capture_output=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    reloaded = load_index(target)
    assert reloaded.passages == old.passages, "the previous index is intact"
    # the next build cleans up what the killed one left and succeeds
    rebuilt = build_index([small_corpus], target, IndexSettings())
    assert any(p.path == "extra.txt" for p in rebuilt.passages)
    assert not list(tmp_path.glob(".idx.tmp-*")) and not list(tmp_path.glob(".idx.old-*"))


def test_same_corpus_same_index(small_corpus: Path, tmp_path: Path) -> None:
    a = build_index([small_corpus], tmp_path / "a", IndexSettings())
    b = build_index([small_corpus], tmp_path / "b", IndexSettings())
    assert a.passages == b.passages
    assert (tmp_path / "a" / PASSAGES).read_bytes() == (tmp_path / "b" / PASSAGES).read_bytes()
    va = a.vectors.reconstruct_n(0, a.vectors.ntotal)
    vb = b.vectors.reconstruct_n(0, b.vectors.ntotal)
    assert np.array_equal(va, vb)
    ma, mb = read_manifest(tmp_path / "a"), read_manifest(tmp_path / "b")
    assert ma["corpus"]["fingerprint"] == mb["corpus"]["fingerprint"]
