"""Bringing an index up to date: left alone when current, rebuilt (incrementally when it can be)
when stale or damaged. The one policy shared by `qa index`, the watchers and the Qdrant store;
which vectors a build can keep is qa.index.incremental's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.index.incremental import Changes

if TYPE_CHECKING:
    from qa.config import IndexSettings
    from qa.index.folder import Index


def why_damaged(index_dir: Path, paths: Sequence[Path], notify: Any = None) -> str | None:
    """Why an index whose manifest is current does not load (None when it does), after saying so.

    A current manifest says nothing of the files beside it: a truncated vectors.faiss or a
    deleted bm25/ must make `qa index` rebuild (the command every load error recommends),
    not report "up to date". Loading is what `qa ask` does, without embedding anything. A
    rebuild that will be refused (the folder holds the user's files) is refused here, before
    announcing it.
    """
    from qa.errors import IndexProblem
    from qa.index.folder import check_buildable, load_index

    try:
        load_index(index_dir)
    except IndexProblem as exc:
        what = getattr(exc, "what", str(exc))
        check_buildable(index_dir, paths)
        if notify:
            notify(f"index {index_dir} is damaged ({what}): rebuilding")
        return f"it is damaged ({what})"
    return None


@dataclass
class Refresh:
    """The outcome of bringing an index up to date: left as it was, or (re)built."""

    index_dir: Path
    status: str  # "up to date" or "built"
    reason: str | None  # why it was built (None when up to date)
    manifest: dict[str, Any]
    index: Index | None  # the new index when built
    changes: Changes
    seconds: float


def refresh_index(
    paths: Sequence[Path],
    index_dir: Path,
    settings: IndexSettings,
    force: bool = False,
    progress: Any = None,
    notify: Any = None,
    encoder: Any = None,
) -> Refresh:
    """Build `index_dir` from `paths` unless it is already up to date (incrementally when it can be).

    The one policy shared by `qa index` and the watchers: an index whose fingerprint, model,
    backend, chunking and paths match is left alone; `force` always rebuilds in full.
    `encoder` replaces the settings' encoder for a build (qa.index.distributed.RayEncoder for --ray).
    """
    import time

    from qa.errors import IndexProblem
    from qa.index.folder import build_index, read_manifest, staleness

    started = time.perf_counter()
    reason: str | None = "forced" if force else None
    manifest: dict[str, Any] = {}
    if not force:
        try:
            manifest = read_manifest(index_dir)
            reason = staleness(manifest, paths, settings)
            if reason is None and manifest.get("backend") != settings.backend:
                reason = f"it was built with the {manifest.get('backend')} encoder"
        except IndexProblem as exc:
            reason = str(exc) if index_dir.exists() else "no index yet"
        if reason is None:
            reason = why_damaged(index_dir, paths, notify)
    if reason is None:
        files = manifest.get("counts", {}).get("files", 0)
        passages = manifest.get("counts", {}).get("passages", 0)
        unchanged = Changes(unchanged=int(files), reused=int(passages), incremental=True)
        return Refresh(index_dir, "up to date", None, manifest, None, unchanged, time.perf_counter() - started)
    index = build_index(paths, index_dir, settings, progress=progress, notify=notify, incremental=not force, encoder=encoder)
    changes = Changes.from_json(index.manifest.get("changes")) or Changes()
    return Refresh(index_dir, "built", reason, index.manifest, index, changes, time.perf_counter() - started)
