"""Incremental re-indexing: what changed since the last build, and which vectors can be kept.

Embedding is the one expensive step of a build (reading, cleaning, chunking and BM25 are
cheap), so a re-index reuses the stored vector of every passage whose embedded text is
already in the old index and embeds only the rest. Reuse is keyed by the embedded text, not
by file: cleaning one file depends on the others (lines repeated across files are dropped as
boilerplate), so a file whose bytes did not change may still yield other passages, and a
key on the text itself can never reuse a vector for text it was not computed from.

The file-level counts (added / changed / removed / unchanged) come from the per-file hashes
the manifest records; they are what the user is told, not what decides reuse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from qa.config import IndexSettings
    from qa.index.folder import Index


@dataclass(frozen=True)
class Changes:
    """What a build changed: files by their hashes, passages by whether they were embedded."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0  # passages run through the encoder in this build
    reused: int = 0  # passages whose vector was read back from the previous index
    incremental: bool = False  # False: a full build (no usable previous index, or --force)

    def files_line(self) -> str:
        """ "3 added, 1 changed, 2 removed, 994 unchanged" (files)."""
        return f"{self.added} added, {self.changed} changed, {self.removed} removed, {self.unchanged} unchanged"

    def passages_line(self) -> str:
        return f"{self.embedded} passages embedded, {self.reused} reused"

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any] | None) -> Changes | None:
        if not isinstance(obj, Mapping):
            return None
        try:
            return cls(**{k: obj[k] for k in cls.__dataclass_fields__ if k in obj})
        except TypeError:
            return None


def file_changes(old: Mapping[str, str] | None, new: Mapping[str, str]) -> tuple[int, int, int, int]:
    """(added, changed, removed, unchanged) between two {file: sha256} maps.

    With no previous map (no index yet, or one built before hashes were recorded) every
    file counts as added.
    """
    old = old or {}
    added = sum(1 for f in new if f not in old)
    changed = sum(1 for f, h in new.items() if f in old and old[f] != h)
    removed = sum(1 for f in old if f not in new)
    return added, changed, removed, len(new) - added - changed


def recorded_hashes(manifest: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The {file: sha256} map a manifest records, or None when it has none (or a malformed one).

    An index built before hashes were recorded still lists its files: they map to "" so that a
    file in both counts as changed (its bytes cannot be compared), not as newly added.
    """
    corpus = (manifest or {}).get("corpus")
    if not isinstance(corpus, Mapping):
        return None
    hashes = corpus.get("file_hashes")
    if isinstance(hashes, Mapping):
        return {str(k): str(v) for k, v in hashes.items()}
    files = corpus.get("files")
    return {str(f): "" for f in files} if isinstance(files, list) else None


def compatible(manifest: Mapping[str, Any], settings: IndexSettings, paths: Sequence[Path]) -> bool:
    """May this index's vectors be reused for `settings` and `paths`? Same model, backend, chunking, paths.

    Another backend rounds differently (int8 against float32), so its vectors would make the
    result differ from a full build; other chunking makes other passages anyway.
    """
    from qa.config import resolved_paths

    try:
        return (
            manifest["model"] == settings.model
            and manifest["backend"] == settings.backend
            and manifest["chunk"] == settings.chunk.to_json()
            and sorted(manifest["corpus"].get("paths", [])) == resolved_paths(paths)
        )
    except (KeyError, TypeError, AttributeError):
        return False


def reuse_plan(texts: Sequence[str], old: Index | None) -> tuple[np.ndarray | None, list[int]]:
    """(vectors with reused rows filled in, indices of `texts` still to embed).

    The array is None when there is no previous index; rows listed as missing are zeros
    until the caller fills them with freshly embedded vectors.
    """
    if old is None or not texts:
        return None, list(range(len(texts)))
    stored = old.vectors_by_text()
    if not stored:
        return None, list(range(len(texts)))
    dim = next(iter(stored.values())).shape[0]
    out = np.zeros((len(texts), dim), dtype=np.float32)
    missing: list[int] = []
    for i, text in enumerate(texts):
        vec = stored.get(text)
        if vec is None:
            missing.append(i)
        else:
            out[i] = vec
    return out, missing


def embed_missing(texts: Sequence[str], old: Any, encoder: Any, progress: Any = None) -> tuple[np.ndarray, list[int], float]:
    """(vectors of every text, indices that were embedded now, seconds the encoder took).

    Texts whose vector `old` (any store with vectors_by_text(), or None) already holds keep
    it; only the rest go through the encoder. Shared by every store's build.
    """
    import time

    vectors, missing = reuse_plan(texts, old)
    started = time.perf_counter()
    if missing:
        fresh = encoder.encode(
            [texts[i] for i in missing],
            batch_size=getattr(encoder, "batch_size", 32),
            progress=(lambda d, t: progress("embed", d, t)) if progress else None,
        )
        if vectors is None:
            vectors = fresh
        else:
            vectors[missing] = fresh
    if vectors is None:  # no texts at all
        vectors = np.zeros((0, int(getattr(encoder, "dim", 0))), dtype=np.float32)
    return vectors, missing, time.perf_counter() - started


def changes_of(old_manifest: Mapping[str, Any] | None, new_hashes: Mapping[str, str], texts: int, missing: int, incremental: bool) -> Changes:
    """The change record a build writes into its manifest."""
    return Changes(*file_changes(recorded_hashes(old_manifest), new_hashes), embedded=missing, reused=texts - missing, incremental=incremental)
