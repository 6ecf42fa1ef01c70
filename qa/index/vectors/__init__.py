"""Where an index lives: the default folder (`faiss`: FAISS + bm25s files) or Qdrant (`qdrant`).

Which store a command uses is chosen once per process (the `--store/--url/--collection`
options, or QA_STORE / QA_QDRANT_URL / QA_QDRANT_COLLECTION) and read by qa.engine when it
opens an index: the chat opens its engine in a worker thread, outside any click context, so
the choice is kept here rather than threaded through every caller. Nothing here imports
qdrant-client; qa.index.vectors.qdrant_store does, and only when `qdrant` is chosen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

STORES = ("faiss", "qdrant")


@dataclass(frozen=True)
class StoreSpec:
    """The store asked for: its kind, and for Qdrant a server URL (None: embedded) and a collection name."""

    kind: str = "faiss"
    url: str | None = None
    collection: str | None = None

    def __post_init__(self) -> None:
        from qa.errors import UsageError

        if self.kind not in STORES:
            raise UsageError(f"unknown store {self.kind!r}: choose one of {', '.join(STORES)}")
        if self.kind == "faiss" and (self.url or self.collection):
            raise UsageError("--url and --collection need --store qdrant")


_selected: StoreSpec | None = None


def select(spec: StoreSpec | None) -> StoreSpec | None:
    """Make `spec` the store this process opens (None: back to the environment's choice); returns the previous one."""
    global _selected
    previous, _selected = _selected, spec
    return previous


def from_env() -> StoreSpec:
    """QA_STORE (faiss|qdrant), QA_QDRANT_URL (implies qdrant), QA_QDRANT_COLLECTION."""
    url = os.environ.get("QA_QDRANT_URL") or None
    kind = os.environ.get("QA_STORE") or ("qdrant" if url else "faiss")
    return StoreSpec(kind, url if kind == "qdrant" else None, (os.environ.get("QA_QDRANT_COLLECTION") or None) if kind == "qdrant" else None)


def selected() -> StoreSpec:
    return _selected or from_env()


STORE_FILE = "qa-store.json"  # in an embedded Qdrant folder: which store and collection it holds (written by qa)


def recorded_store(index_dir: str | os.PathLike[str] | None) -> StoreSpec | None:
    """The store an index folder says it holds (None: a FAISS folder, or nothing qa recognises).

    `qa search --index-dir Q` must open an embedded Qdrant folder without `--store qdrant`
    repeated: taken for a FAISS folder, it was "not a qa index", and the suggested rebuild
    was refused. A folder built by qa records its store and collection in qa-store.json;
    one built before that is recognised by Qdrant's own meta.json (its collection is then
    named after the folder, as it was built).
    """
    import json

    if index_dir is None:
        return None
    folder = os.fspath(index_dir)
    try:
        with open(os.path.join(folder, STORE_FILE), encoding="utf-8") as fh:
            recorded = json.load(fh)
    except (OSError, ValueError):
        recorded = None
    if isinstance(recorded, dict) and recorded.get("store") == "qdrant":
        name = recorded.get("collection")
        return StoreSpec("qdrant", None, name if isinstance(name, str) and name else None)
    if os.path.exists(os.path.join(folder, "manifest.json")):
        return None
    try:
        with open(os.path.join(folder, "meta.json"), encoding="utf-8") as fh:
            meta = json.load(fh)
    except (OSError, ValueError):
        return None
    if isinstance(meta, dict) and "collections" in meta and "aliases" in meta:
        return StoreSpec("qdrant")
    return None
