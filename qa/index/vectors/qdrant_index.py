"""Build, refresh and open a qa index in Qdrant, with the same policy as the folder store.

Reading, cleaning, chunking and embedding are qa's own (the same functions qa.index.folder uses), so
a Qdrant index holds the same passages and the same vectors as a FAISS folder of the same
corpus; re-indexing reuses the stored vector of every passage whose text is unchanged
(read back from the collection), as qa.index.incremental does for folders.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.config import IndexSettings, default_index_dir, is_default_corpus
from qa.errors import IndexProblem
from qa.index.vectors import StoreSpec
from qa.index.vectors.qdrant_store import (
    QdrantStore,
    QdrantTarget,
    build_collection,
    cli_location,
    connect,
    folder_replaceable,
    local_entries,
    read_collection_manifest,
    write_store_file,
)

if TYPE_CHECKING:
    from qa.index.encoders import Encoder
    from qa.index.refresh import Refresh

Notify = Callable[[str], None]
QDRANT_SUFFIX = "-qdrant"  # the default embedded folder sits beside the FAISS folder: <index dir>-qdrant


def target_for(spec: StoreSpec, corpus_paths: Sequence[Path], index_dir: Path | None) -> QdrantTarget:
    """Where the collection of `corpus_paths` lives: named after its default index folder.

    Embedded: the folder is --index-dir, else `<default index dir>-qdrant`; on a server the
    folder is not used and the collection name is --collection or that folder's name.
    """
    default = default_index_dir(list(corpus_paths))
    name = spec.collection or (index_dir.name if index_dir is not None else default.name)
    if spec.url:
        return QdrantTarget(collection=name, url=spec.url)
    folder = Path(index_dir) if index_dir is not None else default.with_name(default.name + QDRANT_SUFFIX)
    return QdrantTarget(collection=name, folder=folder)


def local_home(target: QdrantTarget) -> Path:
    """The local name of a build: what build_lock locks, and what `--ray` keeps its partial vectors beside.

    The embedded folder, or a per-collection name in qa's cache for a server (one machine).
    """
    from qa.config import index_root

    if target.folder is not None:
        return target.folder
    return index_root() / f"qdrant-{target.collection}"


def build(
    paths: Sequence[Path],
    target: QdrantTarget,
    settings: IndexSettings,
    progress: Any = None,
    notify: Notify | None = None,
    incremental: bool = True,
    encoder: Encoder | None = None,
    client: Any = None,
) -> QdrantStore:
    """Read, chunk, embed `paths` and write them as a new collection (atomically, see qdrant_store)."""
    from qa.index.encoders import load_encoder
    from qa.index.folder import build_lock, index_text, manifest_for, read_passages, settings_for
    from qa.index.incremental import changes_of, compatible, embed_missing

    started = time.perf_counter()
    check_buildable(target, paths)
    with build_lock(local_home(target), notify):
        own_client = client is None
        made = _qdrant_entries_before(target) if own_client else None
        client = client or connect(target, create=True)
        try:
            old_manifest: dict[str, Any] | None
            try:
                old_manifest = read_collection_manifest(client, target)
            except IndexProblem:
                old_manifest = None
            settings = settings_for(settings, old_manifest)
            corpus, fingerprint, passages = read_passages(paths, settings, None, progress, notify)
            old = None
            if incremental and old_manifest is not None and compatible(old_manifest, settings, paths):
                old = QdrantStore(target, client, old_manifest, target.collection)
            encoder = encoder or load_encoder(settings.backend)
            texts = [index_text(p) for p in passages]
            vectors, missing, encode_seconds = embed_missing(texts, old, encoder, progress)
            changes = changes_of(old_manifest, corpus.file_hashes, len(texts), len(missing), old is not None)
            manifest = manifest_for(
                paths, corpus, settings, encoder, vectors, "qdrant-hnsw" if target.url else "qdrant-exact", fingerprint, len(passages), changes,
                timings={
                    "encode_seconds": round(encode_seconds, 3),
                    "passages_per_second": round(len(missing) / max(encode_seconds, 1e-9), 2) if missing else 0.0,
                },
            )
            if progress:
                progress("write", 0, len(passages))
            store = build_collection(client, target, manifest, passages, vectors, texts, progress)
            store.manifest["timings"]["build_seconds"] = round(time.perf_counter() - started, 3)
            if target.folder is not None:
                write_store_file(target.folder, target.collection)
        except BaseException:
            if own_client:
                client.close()
                _remove_new_entries(target, made)
            raise
    return store


def check_buildable(target: QdrantTarget, paths: Sequence[Path]) -> None:
    """Every check on the embedded folder, made before any client opens it.

    Opening a Qdrant folder writes into it (meta.json, .lock): a build refused after that
    left them in a user's folder, inside the corpus, or in another corpus's FAISS index
    (which qa then no longer took for an index).
    """
    from qa.index.folder import check_outside_corpus

    if target.folder is not None:
        check_outside_corpus(target.folder, paths)
        folder_replaceable(target.folder)


def _qdrant_entries_before(target: QdrantTarget) -> set[str] | None:
    """What the embedded folder holds before a build opens it (None: the folder does not exist yet)."""
    if target.folder is None:
        return set()
    if not target.folder.exists():
        return None
    return set(local_entries(target.folder))


def _remove_new_entries(target: QdrantTarget, before: set[str] | None) -> None:
    """After a failed first build: remove the Qdrant files it made (and the folder, if it made it), nothing else."""
    import contextlib
    import shutil

    folder = target.folder
    if folder is None or (before is not None and before == set(local_entries(folder))):
        return
    for name in set(local_entries(folder)) - (before or set()):
        path = folder / name
        with contextlib.suppress(OSError):
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    if before is None:
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if empty: never anything else's


def staleness_of(manifest: dict[str, Any], paths: Sequence[Path], settings: IndexSettings) -> str | None:
    from qa.index.folder import staleness

    try:
        return staleness(manifest, paths, settings)
    except (KeyError, TypeError, AttributeError):
        return "its manifest is malformed"


def refresh(
    paths: Sequence[Path],
    target: QdrantTarget,
    settings: IndexSettings,
    force: bool = False,
    progress: Any = None,
    notify: Notify | None = None,
    encoder: Encoder | None = None,
) -> Refresh:
    """`qa index --store qdrant`: build unless up to date (incrementally when it can be; `encoder` as for build)."""
    from qa.index.incremental import Changes
    from qa.index.refresh import Refresh

    started = time.perf_counter()
    reason: str | None = "forced" if force else None
    manifest: dict[str, Any] = {}
    check_buildable(target, paths)  # before any client writes into the folder
    if target.folder is not None and not (target.folder / "meta.json").exists():
        store = build(paths, target, settings, progress=progress, notify=notify, incremental=False, encoder=encoder)
        store.close()
        changes = Changes.from_json(store.manifest.get("changes")) or Changes()
        return Refresh(target.location, "built", reason or "no index yet", store.manifest, None, changes, time.perf_counter() - started)  # type: ignore[arg-type]
    client = connect(target, create=True)
    if not force:
        try:
            manifest = read_collection_manifest(client, target)
            reason = staleness_of(manifest, paths, settings)
            if reason is None and manifest.get("backend") != settings.backend:
                reason = f"it was built with the {manifest.get('backend')} encoder"
        except IndexProblem as exc:
            reason = str(exc)
    if reason is None:
        client.close()
        counts = manifest.get("counts", {})
        unchanged = Changes(unchanged=int(counts.get("files", 0)), reused=int(counts.get("passages", 0)), incremental=True)
        return Refresh(target.location, "up to date", None, manifest, None, unchanged, time.perf_counter() - started)  # type: ignore[arg-type]
    try:
        store = build(paths, target, settings, progress=progress, notify=notify, incremental=not force, encoder=encoder, client=client)
    finally:
        client.close()
    changes = Changes.from_json(store.manifest.get("changes")) or Changes()
    return Refresh(target.location, "built", reason, store.manifest, None, changes, time.perf_counter() - started)  # type: ignore[arg-type]


def open_store(
    paths: Sequence[str | Path] | None,
    spec: StoreSpec,
    index_dir: str | Path | None,
    settings: IndexSettings,
    build_missing: bool = False,
    progress: Any = None,
    notify: Notify | None = None,
) -> QdrantStore:
    """The Qdrant index for `paths` (the bundled seeds when None), built or rebuilt where policy allows.

    As for folders: the bundled corpus is (re)built automatically with a message, any other
    corpus only when `build_missing` says so; otherwise the user is told the command to run.
    """
    from qa.config import resolve_paths

    folder = Path(index_dir) if index_dir is not None else None
    if paths is None and (folder is not None or spec.collection):
        # an index named alone: checked against the corpus it records, never rebuilt from seeds/
        target = target_for(spec, resolve_paths(None), folder)
        recorded, store = _recorded_or_as_built(target, notify)
        if store is not None:
            return store
        paths = recorded
    corpus_paths = resolve_paths(paths)
    target = target_for(spec, corpus_paths, folder)
    auto = is_default_corpus(corpus_paths) or build_missing
    say = notify or (lambda _msg: None)
    fix = f"qa index {' '.join(shlex.quote(str(p)) for p in corpus_paths)} --store qdrant {cli_location(target)}"
    if target.folder is not None and not (target.folder / "meta.json").exists():
        if not auto:
            if (target.folder / "manifest.json").exists():
                folder_replaceable(target.folder)  # says it is a FAISS index: the suggested build would be refused
            raise IndexProblem(f"no Qdrant index for {', '.join(map(str, corpus_paths))} yet: build it with: {fix}")
        check_buildable(target, corpus_paths)  # refuse before announcing a build that must not happen
        say(f"building the Qdrant index for {', '.join(map(str, corpus_paths))} in {target.folder} (first run)")
        build(corpus_paths, target, settings, progress=progress, notify=notify).close()
        return QdrantStore.open(target)
    client = connect(target)
    try:
        try:
            manifest = read_collection_manifest(client, target)
            reason = staleness_of(manifest, corpus_paths, settings)
        except IndexProblem as exc:
            if not auto or "not built by qa" in str(exc):
                raise IndexProblem(f"{exc}" if "not built by qa" in str(exc) else f"no Qdrant index for {', '.join(map(str, corpus_paths))} yet: build it with: {fix}") from None
            reason = "no index yet"
        if reason is not None:
            if not auto:
                raise IndexProblem(f"the {target.describe()} is out of date: {reason}; rebuild it with: {fix}")
            check_buildable(target, corpus_paths)
            say(f"rebuilding the Qdrant index {target.describe()}: {reason}")
            build(corpus_paths, target, settings, progress=progress, notify=notify, client=client)
    finally:
        client.close()
    return QdrantStore.open(target)


def _recorded_or_as_built(target: QdrantTarget, notify: Notify | None) -> tuple[list[Path], QdrantStore | None]:
    """(the corpus paths the collection records, None), or ([], the store as built) when that corpus is gone."""
    from qa.index.folder import recorded_paths

    client = connect(target)
    try:
        manifest = read_collection_manifest(client, target)
    finally:
        client.close()
    recorded = recorded_paths(manifest)
    missing = [p for p in recorded if not p.exists()]
    if recorded and not missing:
        return recorded, None
    if notify:
        gone = shlex.quote(str(missing[0])) if missing else "no corpus recorded"
        notify(f"warning: the corpus of the {target.describe()} is gone ({gone} is missing); answering from the index as built")
    return [], QdrantStore.open(target)


def recorded_corpus(spec: StoreSpec, index_dir: Path | None) -> list[Path] | None:
    """For `qa index --store qdrant --index-dir Q` alone: the corpus Q's collection was built from.

    None when there is no index there yet (the bundled seeds/ are then built, as for folders).
    Refreshing must never swap the corpus for seeds/ because no path was typed.
    """
    from qa.config import resolve_paths
    from qa.index.folder import recorded_paths

    if index_dir is None and not spec.collection:
        return None
    target = target_for(spec, resolve_paths(None), index_dir)
    if target.folder is not None and not (target.folder / "meta.json").exists():
        return None
    client = connect(target)
    try:
        manifest = read_collection_manifest(client, target)
    except IndexProblem:
        return None
    finally:
        client.close()
    return recorded_paths(manifest) or None
