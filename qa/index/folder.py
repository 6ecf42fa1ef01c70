"""The index directory: build it atomically, load it, and refuse a stale or foreign one.

Layout of an index directory:
    manifest.json     schema version, model, chunk settings, corpus fingerprint, counts, timings
    passages.jsonl    one Passage per line (JSON: nothing from an index is ever executed)
    vectors.faiss     FAISS index of the passage embeddings, row i = line i of passages.jsonl
    bm25/             bm25s's arrays (numpy, allow_pickle=False) and vocabulary (JSON)

A build writes everything into a temporary sibling directory and renames it into place, so
a build killed at any moment leaves the previous index loadable; a lock file keeps two builds
of the same directory from interleaving.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from qa import __version__
from qa.config import IndexSettings, recorded_follow_links, resolved_paths
from qa.documents.chunk import chunk_documents
from qa.errors import IndexProblem, QAError
from qa.index.incremental import compatible
from qa.jsonl import jsonl_lines
from qa.records import Corpus, Passage
from qa.safe_text import plural

if TYPE_CHECKING:
    from qa.index.encoders import Encoder

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
VECTORS = "vectors.faiss"
BM25_DIR = "bm25"

# (stage, done, total): stages are "read", "embed", "write"
BuildProgress = Callable[[str, int, int], None]


def index_text(p: Passage) -> str:
    """What gets embedded and BM25-indexed: the title gives a passage its topic."""
    return f"{p.title}\n{p.text}" if p.title else p.text


@dataclass
class Index:
    path: Path
    manifest: dict[str, Any]
    passages: list[Passage]
    vectors: Any  # faiss.Index
    bm25: Any  # qa.index.lexical.Bm25Index

    @property
    def backend(self) -> str:
        return str(self.manifest["backend"])

    def all_vectors(self) -> np.ndarray:
        """Every stored vector, row i = passage i (read back from FAISS: flat and HNSW both keep them)."""
        n = int(self.vectors.ntotal)
        if not n:
            return np.zeros((0, int(self.vectors.d)), dtype=np.float32)
        return np.asarray(self.vectors.reconstruct_n(0, n), dtype=np.float32)

    def vectors_by_text(self) -> dict[str, np.ndarray]:
        """{embedded text (index_text): its stored vector}: what a re-index may reuse without embedding."""
        vectors = self.all_vectors()
        return {index_text(p): vectors[i] for i, p in enumerate(self.passages)}


# ---------------------------------------------------------------- locking and atomic swap


@contextlib.contextmanager
def build_lock(index_dir: Path, notify: Callable[[str], None] | None = None) -> Iterator[None]:
    """Exclusive lock on `index_dir`'s builds; a second builder waits and is told why.

    A build that fails (refused, no text, interrupted) removes the lock file and the parent
    folders it created: a refused build must leave nothing in the user's folder. Unlinking a
    lock file another builder may have open is safe only because every builder, once it holds
    the lock, checks that the file it locked is still the one at the path (else it locks the
    new one), and the file is only ever unlinked by the builder holding it.
    """
    index_dir = Path(os.path.abspath(index_dir))  # "." has no name: the lock would be "..lock"
    lock_path = index_dir.parent / f".{index_dir.name}.lock"
    made: list[Path] = []  # folders this build created to hold the lock
    try:
        fh, created = _acquire(lock_path, made, index_dir, notify)
    except OSError as exc:
        _remove_folders(made)
        raise unwritable(index_dir, exc) from None
    with fh:
        done = False
        try:
            yield
            done = True
        finally:
            if not done and created:
                with contextlib.suppress(OSError):
                    lock_path.unlink()  # still ours: we hold it (see above)
                _remove_folders(made)
            fcntl.flock(fh, fcntl.LOCK_UN)


LOCK_TRIES = 100  # a lock file removed under a waiting builder is reopened; this bounds the retries


def _acquire(lock_path: Path, made: list[Path], index_dir: Path, notify: Callable[[str], None] | None) -> tuple[IO[str], bool]:
    """(the locked lock file, whether this build created it); folders created on the way go into `made`."""
    told = False
    for _ in range(LOCK_TRIES):
        made += _make_folders(lock_path.parent)
        fh, created = _open_lock(lock_path)
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if notify and not told:
                    notify(f"another qa index is building {index_dir}; waiting for it to finish")
                    told = True
                fcntl.flock(fh, fcntl.LOCK_EX)
            if _is_current(fh, lock_path):
                return fh, created
        except BaseException:
            fh.close()
            raise
        fh.close()  # a failed build removed the file we waited on: lock the one now at the path
    raise OSError(errno.EAGAIN, "the build lock kept changing", str(lock_path))


def _open_lock(lock_path: Path) -> tuple[IO[str], bool]:
    """The lock file opened for writing, and whether this call created it."""
    try:
        return open(lock_path, "x+"), True  # closed by build_lock
    except FileExistsError:
        return open(lock_path, "a+"), False


def _is_current(fh: IO[str], lock_path: Path) -> bool:
    """Is the locked file still the one at `lock_path` (not unlinked by a build that failed)?"""
    try:
        there = os.stat(lock_path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fh.fileno())
    return (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino)


def _make_folders(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; the ones this call created, outermost first."""
    missing = []
    for p in (folder, *folder.parents):
        if p.is_dir():
            break
        missing.append(p)
    made = []
    for p in reversed(missing):
        try:
            p.mkdir()
        except FileExistsError:
            if not p.is_dir():
                raise
            continue  # another builder made it meanwhile: theirs
        made.append(p)
    return made


def _remove_folders(made: list[Path]) -> None:
    """Remove the folders a failed build created, innermost first, if nothing else went into them."""
    for p in reversed(made):
        with contextlib.suppress(OSError):
            p.rmdir()


def unwritable(index_dir: Path, exc: OSError) -> IndexProblem:
    """The one-line error for an index that cannot be written where it should go."""
    why = exc.strerror or type(exc).__name__
    return IndexProblem(f"cannot write the index in {index_dir} ({why}); choose a writable folder with --index-dir")


def unreplaceable(index_dir: Path) -> IndexProblem:
    """The error for a folder that cannot be renamed away (EBUSY): writable, but not replaceable.

    "Choose a writable folder" would send the user after permissions; what helps is a folder inside it.
    """
    return IndexProblem(f"cannot replace {index_dir} (it is a mount point or in use); choose a folder inside it with --index-dir")


# every name a build writes into an index directory: a folder holding only these is ours
INDEX_ENTRIES = frozenset({"manifest.json", "passages.jsonl", "vectors.faiss", "bm25"})
TMP_TAG = "tmp-qa"  # .<name>.tmp-qa<pid>: a build in progress (or killed)
OLD_TAG = "old-qa"  # .<name>.old-qa<pid>: the previous index, set aside during the swap


def foreign_entries(folder: Path) -> list[str]:
    """Names in `folder` that a qa build never writes ([] for an empty folder or an index of ours).

    Replacing a folder removes what it holds, so only a folder holding nothing but index files
    may be replaced; anything else is the user's (a thesis, a corpus) and must be left alone.
    """
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [n for n in names if n not in INDEX_ENTRIES or (n == BM25_DIR and not (folder / n).is_dir())]


def check_replaceable(index_dir: Path) -> None:
    """Refuse a target that is not absent, empty or an index of ours: building there would destroy it."""
    if index_dir.is_symlink() and not index_dir.exists():
        raise IndexProblem(f"{index_dir} is a broken symlink; choose another --index-dir")
    if not index_dir.exists():
        return
    if not index_dir.is_dir():
        raise IndexProblem(f"{index_dir} is a file, not a folder; choose another --index-dir")
    foreign = foreign_entries(index_dir)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise IndexProblem(f"{index_dir} holds files that are not a qa index ({shown}); choose another --index-dir")
    if os.path.ismount(index_dir):  # renaming it fails (EBUSY) after all the embedding: say so now
        raise unreplaceable(index_dir)


def check_buildable(target: Path, corpus_paths: Sequence[Path]) -> None:
    """The checks build_index makes, made early: a refused rebuild is one line, not a promise and an error."""
    check_outside_corpus(target, corpus_paths)
    check_replaceable(real_target(target))


def check_outside_corpus(index_dir: Path, paths: Sequence[Path]) -> None:
    """Refuse an index inside (or equal to) the corpus: the build would read or replace the documents."""
    target = Path(os.path.realpath(index_dir))
    for p in paths:
        root = Path(os.path.realpath(p))
        if target == root or (root.is_dir() and target.is_relative_to(root)):
            raise IndexProblem(f"the index folder {index_dir} is inside the corpus {p}; choose an --index-dir outside it")


def real_target(index_dir: Path) -> Path:
    """The folder a build really replaces: "." named absolutely, a symlinked index followed.

    Renaming "." fails ("Device or resource busy") and names its lock "..lock"; swapping a
    symlink would replace the link and strand the index it points to.
    """
    index_dir = Path(os.path.abspath(index_dir))
    if index_dir.is_symlink() and index_dir.is_dir():
        index_dir = Path(os.path.realpath(index_dir))
    return index_dir


def _ours(path: Path) -> bool:
    """A leftover of our own builds: a real folder holding only index files."""
    return path.is_dir() and not path.is_symlink() and not foreign_entries(path)


def _sweep_leftovers(index_dir: Path) -> None:
    """Remove temp dirs of builds that died, and put back an index a crash left aside.

    Only folders named by our tags and holding nothing but index files are touched, so a
    user's folder that happens to look similar is never removed.
    """
    parent = index_dir.parent
    for tmp in parent.glob(f".{glob_escape(index_dir.name)}.tmp-*"):
        if _ours(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    olds = sorted(o for o in parent.glob(f".{glob_escape(index_dir.name)}.old-*") if _ours(o))
    if olds and not index_dir.exists() and not index_dir.is_symlink():
        olds[-1].rename(index_dir)
        olds = olds[:-1]
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)


def glob_escape(name: str) -> str:
    """`name` with glob metacharacters escaped (a folder called "[x]" must match only itself)."""
    import glob

    return glob.escape(name)


def _swap_in(tmp: Path, index_dir: Path) -> None:
    """Put the new index in place; the old one (checked to be ours) is set aside, then removed."""
    check_replaceable(index_dir)
    old = index_dir.parent / f".{index_dir.name}.{OLD_TAG}{os.getpid()}"
    if index_dir.exists():
        try:
            index_dir.rename(old)
        except OSError as exc:  # a bind mount ismount() misses, or a folder the system holds
            if exc.errno == errno.EBUSY:
                raise unreplaceable(index_dir) from None
            raise
    tmp.rename(index_dir)
    if _ours(old):
        shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---------------------------------------------------------------- build


def build_index(
    paths: Sequence[Path],
    index_dir: Path,
    settings: IndexSettings,
    progress: BuildProgress | None = None,
    notify: Callable[[str], None] | None = None,
    corpus: Corpus | None = None,
    incremental: bool = True,
    encoder: Encoder | None = None,
) -> Index:
    """Read, chunk, embed and index `paths` into `index_dir`, replacing it atomically.

    With `incremental` (the default) and a compatible index already at `index_dir` (same
    model, backend, chunking and paths), only passages whose embedded text is new are
    embedded; the others keep their stored vectors (qa.index.incremental). The result is the same
    as a full build's. `encoder` overrides the settings' encoder (a seam for tests and tools).
    What changed is recorded in the manifest under "changes".
    """
    from qa.index import dense
    from qa.index.encoders import load_encoder
    from qa.index.folder import previous_index
    from qa.index.incremental import changes_of, embed_missing
    from qa.index.lexical import Bm25Index

    started = time.perf_counter()
    index_dir = real_target(index_dir)
    settings = settings_for(settings, _readable_manifest(index_dir))
    check_outside_corpus(index_dir, paths)
    check_replaceable(index_dir)  # before the lock: a refused build leaves no lock file in the user's folder
    with build_lock(index_dir, notify):
        _sweep_leftovers(index_dir)
        check_replaceable(index_dir)
        corpus, fingerprint, passages = read_passages(paths, settings, corpus, progress, notify)

        old_manifest = _readable_manifest(index_dir)
        old = previous_index(index_dir, settings, paths) if incremental else None
        encoder = encoder or load_encoder(settings.backend)
        texts = [index_text(p) for p in passages]
        vectors, missing, encode_seconds = embed_missing(texts, old, encoder, progress)
        changes = changes_of(old_manifest, corpus.file_hashes, len(texts), len(missing), old is not None)
        del old  # its vectors are copied; free the old FAISS and BM25 before building the new ones

        tmp = index_dir.parent / f".{index_dir.name}.{TMP_TAG}{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            tmp.mkdir(parents=True)
            if progress:
                progress("write", 0, 1)
            with open(tmp / PASSAGES, "w", encoding="utf-8") as fh:
                for p in passages:
                    fh.write(json.dumps(p.to_json(), ensure_ascii=False) + "\n")
            faiss_index = dense.build(vectors)
            dense.save(faiss_index, tmp / VECTORS)
            bm25 = Bm25Index.build(texts)
            bm25.save(tmp / BM25_DIR)
            manifest = manifest_for(
                paths, corpus, settings, encoder, vectors, dense.kind_of(faiss_index), fingerprint, len(passages), changes,
                timings={
                    "encode_seconds": round(encode_seconds, 3),
                    "passages_per_second": _embedding_rate(len(missing), encode_seconds, old_manifest),
                    "build_seconds": round(time.perf_counter() - started, 3),
                },
            )
            # the manifest goes last: a directory without one is never taken for an index
            with open(tmp / MANIFEST, "w", encoding="utf-8") as fh:
                fh.write(_manifest_text(manifest))
                fh.flush()
                os.fsync(fh.fileno())
            _fsync_dir(tmp)
            _swap_in(tmp, index_dir)
            _fsync_dir(index_dir.parent)
            if progress:
                progress("write", 1, 1)
        except OSError as exc:  # read-only folder, disk full: one line, not a traceback
            shutil.rmtree(tmp, ignore_errors=True)
            raise unwritable(index_dir, exc) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return Index(index_dir, manifest, passages, faiss_index, bm25)


def settings_for(settings: IndexSettings, old_manifest: dict[str, Any] | None) -> IndexSettings:
    """`settings` for a build that replaces the index of `old_manifest`: --follow-links not
    given keeps what that index was built with (a rebuild never drops the linked files)."""
    from dataclasses import replace

    return replace(settings, follow_links=settings.links_followed(old_manifest))


def read_passages(
    paths: Sequence[Path],
    settings: IndexSettings,
    corpus: Corpus | None = None,
    progress: BuildProgress | None = None,
    notify: Callable[[str], None] | None = None,
) -> tuple[Corpus, str, list[Passage]]:
    """The read stage of every build: (corpus, fingerprint, passages), warnings passed on.

    The fingerprint is taken from the bytes actually read, so a file changed or deleted during
    the build leaves the index stale. Nothing to index is one line naming what was skipped.
    """
    from qa.documents.ingest import corpus_fingerprint, load_corpus

    follow = bool(settings.follow_links)
    corpus = corpus or load_corpus(list(paths), progress, follow_links=follow)
    fingerprint = corpus.fingerprint or corpus_fingerprint(list(paths), follow_links=follow)
    for warning in corpus.warnings:
        if notify:
            notify(f"warning: {warning}")
    passages = chunk_documents(corpus.documents, settings.chunk)
    if not passages:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in corpus.skipped[:3])
        raise QAError(f"no text to index in {', '.join(map(str, paths))}" + (f" (skipped {reasons})" if reasons else ""))
    return corpus, fingerprint, passages


def manifest_for(
    paths: Sequence[Path],
    corpus: Corpus,
    settings: IndexSettings,
    encoder: Any,
    vectors: np.ndarray,
    index_kind: str,
    fingerprint: str,
    passages: int,
    changes: Any,
    timings: dict[str, Any],
) -> dict[str, Any]:
    """The manifest of a build, whatever store holds it: what later loads check it against.

    Model, encoder, dimension and chunking decide whether vectors may be mixed; the corpus
    paths, fingerprint and per-file hashes decide whether it is stale and what a re-index
    compares.
    """
    from qa.documents.ingest import INGEST_VERSION

    return {
        "schema_version": SCHEMA_VERSION,
        "qa_version": __version__,
        "model": encoder.name,
        "backend": encoder.backend,
        "dimension": int(vectors.shape[1]),
        "index_kind": index_kind,  # "flat" (exact), "hnsw" (approximate), "qdrant-…"
        "chunk": settings.chunk.to_json(),
        "follow_links": bool(settings.follow_links),  # a setting: the same folder gives another corpus with it
        "corpus": {
            "paths": resolved_paths(paths),
            "root": corpus.root,
            "fingerprint": fingerprint,
            "ingest_version": INGEST_VERSION,  # how documents were read: a newer qa may read them differently
            "files": list(corpus.files),
            "file_hashes": dict(corpus.file_hashes),  # what the next re-index compares
            "skipped": [{"path": s.path, "reason": s.reason} for s in corpus.skipped],
            "dropped_lines": dict(corpus.dropped_lines),  # per file, lines cleaning dropped as boilerplate
        },
        "counts": {
            "files": len({d.path for d in corpus.documents}),  # files indexed: read but skipped ones are under "skipped"
            "documents": len(corpus.documents),
            "passages": passages,
            "skipped": len(corpus.skipped),
        },
        "changes": changes.to_json(),
        "timings": timings,
        "built_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def _readable_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The manifest now at `index_dir` if there is a valid one (for the change counts), else None."""
    try:
        return read_manifest(index_dir)
    except (QAError, OSError):
        return None


def _embedding_rate(embedded: int, seconds: float, old_manifest: dict[str, Any] | None) -> float:
    """Passages embedded per second; a re-index that embedded (almost) nothing keeps the last measured rate."""
    if embedded >= 32 or not old_manifest:
        return round(embedded / max(seconds, 1e-9), 2) if embedded else 0.0
    timings = old_manifest.get("timings")
    rate = timings.get("passages_per_second") if isinstance(timings, dict) else None
    if isinstance(rate, int | float) and rate > 0:
        return float(rate)
    return round(embedded / max(seconds, 1e-9), 2) if embedded else 0.0


def _manifest_text(manifest: dict[str, Any]) -> str:
    """The manifest as JSON; a corpus path holding undecodable bytes is kept as \\udcXX escapes.

    Such a path is a str with lone surrogates, which cannot be written as UTF-8 but
    round-trips through ASCII JSON, so the recorded path still names the real folder.
    """
    text = json.dumps(manifest, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(manifest, indent=2, ensure_ascii=True)
    return text


# ---------------------------------------------------------------- load and check


# what read_manifest checks every manifest holds, and of which JSON type
_MANIFEST_TYPES: dict[str, type] = {
    "model": str,
    "backend": str,
    "dimension": int,
    "chunk": dict,
    "corpus": dict,
    "counts": dict,
}


def rebuild_hint(index_dir: Path, manifest: dict[str, Any] | None = None) -> str:
    """The command that repairs the index: `qa index` rebuilds a damaged index of ours (quoted to paste)."""
    import shlex

    corpus = (manifest or {}).get("corpus")
    recorded = corpus.get("paths") if isinstance(corpus, dict) else None
    paths = " ".join(shlex.quote(p) for p in recorded if isinstance(p, str)) if isinstance(recorded, list) else ""
    paths = paths or "PATH"
    return f"rebuild it with: qa index {paths} --index-dir {shlex.quote(str(index_dir))}"


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest, or IndexProblem saying what is wrong and how to fix it."""
    _sweep_missing(index_dir)
    mpath = index_dir / MANIFEST
    if not index_dir.exists():
        raise IndexProblem(f"no index at {index_dir}: build one with: qa index PATH --index-dir {index_dir}")
    if not mpath.exists():
        raise IndexProblem(f"{index_dir} is not a qa index (no {MANIFEST}); {rebuild_hint(index_dir)}")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not an object")
    except (ValueError, UnicodeDecodeError) as exc:
        raise IndexProblem(f"{mpath} is not valid JSON ({exc}); {rebuild_hint(index_dir)}") from None
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise IndexProblem(
            f"index {index_dir} has schema version {version!r}, this qa reads {SCHEMA_VERSION}; "
            + rebuild_hint(index_dir, manifest)
        )
    for key, kind in _MANIFEST_TYPES.items():
        if key not in manifest:
            raise IndexProblem(f"{mpath} lacks {key!r}; {rebuild_hint(index_dir, manifest)}")
        if not isinstance(manifest[key], kind) or isinstance(manifest[key], bool):
            # a hand-edited or foreign manifest must fail here, not as an AttributeError later
            raise IndexProblem(f"{mpath} has a malformed {key!r} entry; {rebuild_hint(index_dir, manifest)}")
    return manifest


def _sweep_missing(index_dir: Path) -> None:
    if not index_dir.exists() and index_dir.parent.exists():
        with contextlib.suppress(OSError):
            _sweep_leftovers(index_dir)


def staleness(manifest: dict[str, Any], paths: Sequence[Path], settings: IndexSettings) -> str | None:
    """Why the index no longer matches `paths` and `settings`, or None when it does."""
    from qa.documents.ingest import INGEST_VERSION, corpus_fingerprint

    if manifest["model"] != settings.model:
        return f"it was built with model {manifest['model']!r}, not {settings.model!r}"
    if manifest["chunk"] != settings.chunk.to_json():
        return "it was built with other chunking settings"
    follow = settings.links_followed(manifest)
    if follow != recorded_follow_links(manifest):
        return f"it was built {'without' if follow else 'with'} --follow-links"
    recorded = manifest["corpus"].get("paths", [])
    if sorted(recorded) != resolved_paths(paths):
        return "it was built from other paths"
    try:
        if manifest["corpus"].get("fingerprint") != corpus_fingerprint(list(paths), follow_links=follow):
            if manifest["corpus"].get("ingest_version") != INGEST_VERSION:  # the fingerprint includes it
                return "it was built by an earlier qa, which read the documents differently"
            return "the documents changed since it was built"
    except QAError as exc:
        return str(exc)
    return None


class DamagedIndex(IndexProblem):
    """A part of an index is missing, unreadable or disagrees with the rest.

    `what` says which part and how, without the fix: `qa index` reports it before rebuilding.
    """

    def __init__(self, message: str, what: str) -> None:
        super().__init__(message)
        self.what = what


def load_index(index_dir: Path) -> Index:
    """Load and cross-check every part; raise IndexProblem (DamagedIndex for a part) naming the broken part."""
    from qa.index import dense
    from qa.index.lexical import Bm25Index

    manifest = read_manifest(index_dir)
    hint = rebuild_hint(index_dir, manifest)
    try:
        passages = _read_passages_file(index_dir / PASSAGES)
    except FileNotFoundError:
        raise DamagedIndex(f"{index_dir} lacks {PASSAGES}; {hint}", f"{PASSAGES} is missing") from None
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise DamagedIndex(f"{index_dir / PASSAGES} is corrupt ({exc}); {hint}", f"{PASSAGES} is corrupt") from None
    try:
        vectors = dense.load(index_dir / VECTORS)
    except Exception:  # faiss raises RuntimeError with C++ internals for any bad file: not for the user
        raise _unreadable(index_dir, VECTORS, hint) from None
    try:
        bm25 = Bm25Index.load(index_dir / BM25_DIR)
    except Exception:
        raise _unreadable(index_dir, BM25_DIR, hint) from None
    n = len(passages)
    if vectors.ntotal != n or manifest["counts"].get("passages") != n or bm25.size != n:
        counts = f"{plural(n, 'passage')}, {plural(vectors.ntotal, 'vector')}, {plural(bm25.size, 'BM25 row')}"
        raise DamagedIndex(f"index {index_dir} is inconsistent: {counts}; {hint}", f"its parts disagree: {counts}")
    if vectors.d != manifest["dimension"]:
        sizes = f"vectors of size {vectors.d}, manifest says {manifest['dimension']}"
        raise DamagedIndex(f"index {index_dir} has {sizes}; {hint}", f"it has {sizes}")
    return Index(index_dir, manifest, passages, vectors, bm25)


def _read_passages_file(path: Path) -> list[Passage]:
    return [Passage.from_json(json.loads(line)) for line in jsonl_lines(path.read_text(encoding="utf-8")) if line.strip()]


def _unreadable(index_dir: Path, name: str, hint: str) -> DamagedIndex:
    """A part that did not load: whether it is gone or damaged is all the user can act on."""
    why = "damaged or truncated" if (index_dir / name).exists() else "missing"
    return DamagedIndex(f"{index_dir / name} cannot be read ({why}); {hint}", f"{name} is {why}")


def recorded_paths(manifest: dict[str, Any]) -> list[Path]:
    """The corpus paths an index records having been built from."""
    recorded = manifest["corpus"].get("paths", [])
    return [Path(p) for p in recorded if isinstance(p, str)] if isinstance(recorded, list) else []


def previous_index(index_dir: Path, settings: IndexSettings, paths: Sequence[Path]) -> Index | None:
    """The index now at `index_dir` when its vectors may be reused, else None (a full build follows).

    Anything unreadable or inconsistent is simply not reused: the build then does what a
    full build does, so a damaged index never makes a re-index fail.
    """
    from qa.errors import QAError

    try:
        if not compatible(read_manifest(index_dir), settings, paths):
            return None
        return load_index(index_dir)
    except (QAError, OSError):
        return None
