"""Where an index lives: the default folder (`faiss`: FAISS + bm25s files) or Qdrant (`qdrant`).

Which store a command uses is chosen once per process (the `--store/--url/--collection`
options, or QA_STORE / QA_QDRANT_URL / QA_QDRANT_COLLECTION) and read by qa.engine when it
opens an index: the chat opens its engine in a worker thread, outside any click context, so
the choice is kept here rather than threaded through every caller. Nothing here imports
qdrant-client; qa.stores.qdrant_store does, and only when `qdrant` is chosen.
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
        from ..errors import UsageError

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
