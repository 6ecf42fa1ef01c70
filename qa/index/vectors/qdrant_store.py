"""The `qdrant` store: passages, dense vectors and BM25 sparse vectors in one Qdrant collection.

The same code runs embedded (`QdrantClient(path=folder)`: nothing to start, one process at a
time — qdrant-client locks the folder) and against a server or cluster (`url=`). A collection
holds, per passage: id = its row number, the dense vector ("dense", dot product on the
normalised embeddings = cosine, as FAISS), the BM25 term weights ("bm25", sparse, Qdrant's IDF
modifier — qa.index.vectors.sparse) and the passage as payload. The index manifest (model, dimension,
chunking, corpus fingerprint, counts) is the collection's metadata, so a collection built with
another model is refused exactly as a folder is.

Builds are atomic: points go into a new collection `<name>--qa<stamp>`, and only when it is
complete does the alias `<name>` (what queries use) move to it in one call; the previous
collection is then dropped. A build killed halfway leaves the alias on the old collection.
Only collections whose metadata says qa built them are ever deleted.

qdrant-client is imported only here, and this module only when `--store qdrant` is used.
"""

from __future__ import annotations

import atexit
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import IndexProblem, UsageError
from qa.index.vectors import sparse
from qa.index.vectors.base import Ranked
from qa.records import Passage

DENSE = "dense"
LEXICAL = "bm25"
MANIFEST_KEY = "qa_manifest"  # collection metadata: the index manifest (set once the build is complete)
BUILDING_KEY = "qa_building"  # collection metadata: set at creation, marks a collection qa made
BUILD_TAG = "--qa"
UPSERT_BATCH = 256
# what an embedded Qdrant folder holds: a folder with nothing else may be replaced or swept
LOCAL_ENTRIES = frozenset({"meta.json", "collection", ".lock", "qa-store.json"})
STORE_FILE_TMP = ".qa-store.json.tmp"  # qa-store.json being written (a build killed then leaves one)
INSTALL_HINT = "--store qdrant needs qdrant-client: pip install -e '.[scale]' (or pip install qdrant-client)"


@dataclass(frozen=True)
class QdrantTarget:
    """Where a collection lives: an embedded folder, or a server URL; and its name (an alias)."""

    collection: str
    folder: Path | None = None
    url: str | None = None

    @property
    def location(self) -> str | Path:
        """What `index_dir`/`path` shows: the folder, or the server's collection URL."""
        if self.url:
            return f"{self.url.rstrip('/')}/collections/{self.collection}"
        assert self.folder is not None
        return self.folder

    def describe(self) -> str:
        return f"Qdrant collection {self.collection!r} at {self.url or self.folder}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:160]


def connect(target: QdrantTarget, create: bool = False):  # type: ignore[no-untyped-def]
    """A client for `target`, or one line saying why there is none (not installed, unreachable, in use)."""
    try:
        from qdrant_client import QdrantClient
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    if target.url:
        client = QdrantClient(url=target.url, timeout=30, check_compatibility=False)
        try:
            client.get_collections()
        except Exception as exc:  # noqa: BLE001 - httpx/grpc errors of every kind: the server is not there
            client.close()
            raise IndexProblem(
                f"cannot reach Qdrant at {target.url} ({_first_line(exc)}); start it "
                "(docker run -p 6333:6333 qdrant/qdrant) or fix --url / QA_QDRANT_URL"
            ) from None
        return client
    assert target.folder is not None
    folder = target.folder
    if not create and not (folder / "meta.json").exists():
        raise IndexProblem(f"no Qdrant index at {folder}: build one with: qa index PATH --store qdrant --index-dir {folder}")
    try:
        client = QdrantClient(path=str(folder))
    except RuntimeError as exc:
        if "already accessed" in str(exc):
            raise IndexProblem(
                f"the Qdrant folder {folder} is open in another qa process (embedded Qdrant allows one at a time); "
                "close it, or run a Qdrant server and use --url"
            ) from None
        raise IndexProblem(f"cannot open the Qdrant folder {folder} ({_first_line(exc)})") from None
    except OSError as exc:
        raise IndexProblem(f"cannot open the Qdrant folder {folder} ({exc.strerror or type(exc).__name__})") from None
    # closed before the interpreter tears modules down (its __del__ then fails noisily)
    atexit.register(client.close)
    return client


def models():  # type: ignore[no-untyped-def]
    from qdrant_client import models as m

    return m


def _collection_metadata(client, name: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    info = client.get_collection(name)
    return dict(info.config.metadata or {})


def alias_target(client, alias: str) -> str | None:  # type: ignore[no-untyped-def]
    """The collection `alias` points to, or None."""
    for a in client.get_aliases().aliases:
        if a.alias_name == alias:
            return str(a.collection_name)
    return None


def read_collection_manifest(client, target: QdrantTarget) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The manifest the collection carries, or IndexProblem naming the fix."""
    hint = f"build it with: qa index PATH --store qdrant {cli_location(target)}"
    name = alias_target(client, target.collection)
    if name is None:
        if client.collection_exists(target.collection):
            raise IndexProblem(f"{target.describe()} was not built by qa (it is not a qa alias); choose another with --collection")
        raise IndexProblem(f"no {target.describe()}; {hint}")
    manifest = _collection_metadata(client, name).get(MANIFEST_KEY)
    if not isinstance(manifest, dict):
        raise IndexProblem(f"{target.describe()} has no qa manifest; {hint}")
    return manifest


def cli_location(target: QdrantTarget) -> str:
    """The options that name `target` again on the command line."""
    import shlex

    where = f"--url {shlex.quote(target.url)}" if target.url else f"--index-dir {shlex.quote(str(target.folder))}"
    return f"{where} --collection {shlex.quote(target.collection)}"


def _points(passages: Sequence[Passage], vectors: np.ndarray, texts: Sequence[str], first_id: int, avgdl: float) -> list[Any]:
    m = models()
    weights = sparse.document_vectors(sparse.tokens(texts), avgdl)
    return [
        m.PointStruct(
            id=first_id + i,
            vector={DENSE: vectors[i].astype(np.float32).tolist(), LEXICAL: m.SparseVector(indices=w.indices, values=w.values)},
            payload={"passage": p.to_json()},
        )
        for i, (p, w) in enumerate(zip(passages, weights, strict=True))
    ]


@dataclass
class QdrantStore:
    """A qa index in a Qdrant collection (qa.index.vectors.base.Store and WritableStore)."""

    target: QdrantTarget
    client: Any  # qdrant_client.QdrantClient
    manifest: dict[str, Any]
    collection: str  # the alias queries go through (or the build collection while building)
    # hybrid fused by Qdrant (prefetch + RRF) on a server; embedded Qdrant could (it supports the same
    # query) but runs each prefetch again in pure Python, doubling a search's cost (docs/scaling.md),
    # so there qa.answers.retrieve fuses the two lists instead (same formula, same order). False also after a
    # server refused a parameterised RRF.
    engine_fusion: bool | None = None
    _passages: list[Passage] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.engine_fusion is None:
            self.engine_fusion = bool(self.target.url)

    # ------------------------------------------------------------ open

    @classmethod
    def open(cls, target: QdrantTarget) -> QdrantStore:
        client = connect(target)
        try:
            manifest = read_collection_manifest(client, target)
            store = cls(target, client, manifest, target.collection)
            store.check_consistent()
        except BaseException:
            client.close()
            raise
        return store

    def check_consistent(self) -> None:
        """The collection's vectors and point count agree with its manifest (else: rebuild)."""
        hint = f"rebuild it with: qa index PATH --store qdrant {cli_location(self.target)} --force"
        info = self.client.get_collection(self.collection)
        params = info.config.params.vectors
        size = params[DENSE].size if isinstance(params, dict) and DENSE in params else None
        if size != self.manifest.get("dimension"):
            raise IndexProblem(f"{self.target.describe()} has vectors of size {size}, its manifest says {self.manifest.get('dimension')}; {hint}")
        n = self.client.count(self.collection, exact=True).count
        if n != self.manifest.get("counts", {}).get("passages"):
            raise IndexProblem(f"{self.target.describe()} is inconsistent: {n} points, manifest says {self.manifest.get('counts', {}).get('passages')}; {hint}")

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------ Store

    @property
    def path(self) -> str | Path:
        return self.target.location

    @property
    def backend(self) -> str:
        return str(self.manifest["backend"])

    @property
    def size(self) -> int:
        return int(self.manifest.get("counts", {}).get("passages", 0))

    @property
    def passages(self) -> list[Passage]:
        """Every passage (scrolled once, then kept): the chat's article view and eval want the list."""
        if self._passages is None:
            self._passages = [Passage.from_json(payload["passage"]) for _, payload, _ in self._scroll(with_vectors=False)]
        return self._passages

    def fetch(self, ids: Sequence[int]) -> list[Passage]:
        if self._passages is not None:
            return [self._passages[i] for i in ids]
        found = self.client.retrieve(self.collection, ids=list(ids), with_payload=True, with_vectors=False)
        by_id = {int(p.id): Passage.from_json(p.payload["passage"]) for p in found}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise IndexProblem(f"{self.target.describe()} lacks passage {missing[0]}; rebuild it with: qa index PATH --store qdrant {cli_location(self.target)} --force")
        return [by_id[i] for i in ids]

    def dense_search(self, qvec: np.ndarray, depth: int) -> Ranked:
        res = self.client.query_points(self.collection, query=_dense_query(qvec), using=DENSE, limit=depth, with_payload=False)
        return _ranked(res.points)

    def lexical_search(self, query: str, depth: int) -> Ranked:
        q = sparse.query_vector(query)
        if not q.indices:
            return []
        res = self.client.query_points(
            self.collection, query=models().SparseVector(indices=q.indices, values=q.values), using=LEXICAL, limit=depth, with_payload=False
        )
        return [(i, s) for i, s in _ranked(res.points) if s > 0]

    def search_lists(self, qvec: np.ndarray | None, query: str | None, depth: int, rrf_k: int | None) -> dict[str, Ranked]:
        """Dense, BM25 and (for hybrid) the fused list in one request; Qdrant fuses (prefetch + RRF).

        The fused list comes from the engine; the single lists ride along in the same batch so
        each hit still shows its dense and BM25 rank and score.
        """
        m = models()
        q = sparse.query_vector(query) if query is not None else None
        requests: dict[str, Any] = {}
        if qvec is not None:
            requests["dense"] = m.QueryRequest(query=_dense_query(qvec), using=DENSE, limit=depth)
        if q is not None and q.indices:
            requests["bm25"] = m.QueryRequest(query=m.SparseVector(indices=q.indices, values=q.values), using=LEXICAL, limit=depth)
        fuse_here = rrf_k is not None and len(requests) == 2 and self.engine_fusion
        if fuse_here:
            requests["fused"] = m.QueryRequest(
                prefetch=[m.Prefetch(query=r.query, using=r.using, limit=depth) for r in requests.values()],
                # Qdrant scores 1/(k + position), position from 0; qa's RRF is 1/(k + rank), rank from 1
                query=m.RrfQuery(rrf=m.Rrf(k=rrf_k + 1)),
                limit=depth,
            )
        try:
            results = self.client.query_batch_points(self.collection, requests=list(requests.values())) if requests else []
        except Exception as exc:  # noqa: BLE001 - an older server without parameterised RRF: the engine's own fusion then
            if not fuse_here or "rrf" not in str(exc).lower():
                raise IndexProblem(f"Qdrant search failed on {self.target.describe()} ({_first_line(exc)})") from None
            self.engine_fusion = False
            return self.search_lists(qvec, query, depth, rrf_k)
        lists = {name: _ranked(r.points) for name, r in zip(requests, results, strict=True)}
        if "bm25" in lists:
            lists["bm25"] = [(i, s) for i, s in lists["bm25"] if s > 0]
        if query is not None and "bm25" not in lists:
            lists["bm25"] = []
        return lists

    def vectors_by_text(self) -> dict[str, np.ndarray]:
        from qa.index.folder import index_text

        return {
            index_text(Passage.from_json(payload["passage"])): np.asarray(vector[DENSE], dtype=np.float32)
            for _, payload, vector in self._scroll(with_vectors=True)
        }

    def _scroll(self, with_vectors: bool) -> Iterator[tuple[int, dict[str, Any], Any]]:
        """Every point in id order (payload, and the dense vector when asked)."""
        rows: list[tuple[int, dict[str, Any], Any]] = []
        offset = None
        while True:
            points, offset = self.client.scroll(
                self.collection, limit=1024, offset=offset, with_payload=True, with_vectors=[DENSE] if with_vectors else False
            )
            rows.extend((int(p.id), p.payload or {}, p.vector) for p in points)
            if offset is None:
                break
        rows.sort(key=lambda r: r[0])
        yield from rows

    # ------------------------------------------------------------ WritableStore

    def add(self, passages: Sequence[Passage], vectors: np.ndarray, texts: Sequence[str], first_id: int) -> None:
        """Upsert passages with ids first_id… (BM25 weights against the manifest's average length)."""
        avgdl = float(self.manifest.get("lexical", {}).get("avgdl") or 1.0)
        for start in range(0, len(passages), UPSERT_BATCH):
            end = start + UPSERT_BATCH
            points = _points(passages[start:end], vectors[start:end], texts[start:end], first_id + start, avgdl)
            self.client.upsert(self.collection, points=points, wait=True)
        self._passages = None

    def delete(self, ids: Sequence[int]) -> None:
        self.client.delete(self.collection, points_selector=models().PointIdsList(points=list(ids)), wait=True)
        self._passages = None


def _dense_query(qvec: np.ndarray) -> list[float]:
    return np.asarray(qvec, dtype=np.float32).tolist()


def _ranked(points: Sequence[Any]) -> Ranked:
    """(id, score) best first, ties by id (as FAISS and bm25s order them in qa.answers.retrieve)."""
    return sorted(((int(p.id), float(p.score)) for p in points), key=lambda t: (-t[1], t[0]))


# ---------------------------------------------------------------- build


def build_collection(
    client,  # type: ignore[no-untyped-def]
    target: QdrantTarget,
    manifest: dict[str, Any],
    passages: Sequence[Passage],
    vectors: np.ndarray,
    texts: Sequence[str],
    progress: Any = None,
) -> QdrantStore:
    """Write a new collection and move the alias to it; the previous one (if qa's) is dropped.

    The manifest gets the BM25 average length ("lexical") and is written last, as the
    collection's metadata, just before the alias moves: a half-written collection never has one.
    """
    m = models()
    check_alias_free(client, target)
    sweep_builds(client, target)
    name = f"{target.collection}{BUILD_TAG}{time.strftime('%Y%m%d%H%M%S')}{int(time.time() * 1000) % 1000:03d}"
    token_lists = sparse.tokens(texts)
    avgdl = sparse.average_length(token_lists)
    manifest = {**manifest, "store": "qdrant", "lexical": {"avgdl": avgdl, "k1": sparse.K1, "b": sparse.B, "term_ids": "crc32"}}
    client.create_collection(
        name,
        vectors_config={DENSE: m.VectorParams(size=int(vectors.shape[1]), distance=m.Distance.DOT)},
        sparse_vectors_config={LEXICAL: m.SparseVectorParams(modifier=m.Modifier.IDF)},
        metadata={BUILDING_KEY: True},
        **cluster_layout(target),
    )
    store = QdrantStore(target, client, manifest, name)
    try:
        total = len(passages)
        for start in range(0, total, UPSERT_BATCH):
            end = min(total, start + UPSERT_BATCH)
            store.add(passages[start:end], vectors[start:end], texts[start:end], start)
            if progress:
                progress("write", end, total)
        client.update_collection(name, metadata={MANIFEST_KEY: json.loads(json.dumps(manifest)), BUILDING_KEY: False})
        old = alias_target(client, target.collection)
        ops: list[Any] = []
        if old is not None:
            ops.append(m.DeleteAliasOperation(delete_alias=m.DeleteAlias(alias_name=target.collection)))
        ops.append(m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name=name, alias_name=target.collection)))
        client.update_collection_aliases(change_aliases_operations=ops)
    except BaseException:
        _drop_if_ours(client, name)
        raise
    if old is not None:
        _drop_if_ours(client, old)
    store.collection = target.collection
    return store


def cluster_layout(target: QdrantTarget) -> dict[str, Any]:
    """Shards and replicas for a server collection: QA_QDRANT_SHARDS, QA_QDRANT_REPLICAS (Qdrant's defaults: 1, 1).

    A cluster spreads a collection's shards over its nodes; replicas keep it answering when a
    node goes away (docs/scaling.md sizes both). Embedded Qdrant has no shards.
    """
    import os

    if not target.url:
        return {}
    layout: dict[str, Any] = {}
    for key, env in (("shard_number", "QA_QDRANT_SHARDS"), ("replication_factor", "QA_QDRANT_REPLICAS")):
        value = os.environ.get(env)
        if value:
            if not value.isdigit() or int(value) < 1:
                raise UsageError(f"{env} must be a whole number ≥ 1, not {value!r}")
            layout[key] = int(value)
    return layout


def check_alias_free(client, target: QdrantTarget) -> None:  # type: ignore[no-untyped-def]
    """Refuse a name taken by a collection qa did not make (moving an alias over it would fail or hide it)."""
    if alias_target(client, target.collection) is None and client.collection_exists(target.collection):
        raise IndexProblem(f"{target.describe()} is a collection qa did not build; choose another name with --collection")


def sweep_builds(client, target: QdrantTarget) -> None:  # type: ignore[no-untyped-def]
    """Drop collections of builds of this name that died halfway (qa's marker, not the alias's target)."""
    live = alias_target(client, target.collection)
    prefix = f"{target.collection}{BUILD_TAG}"
    for c in client.get_collections().collections:
        if c.name.startswith(prefix) and c.name != live:
            _drop_if_ours(client, c.name)


def _drop_if_ours(client, name: str) -> None:  # type: ignore[no-untyped-def]
    try:
        meta = _collection_metadata(client, name)
    except Exception:  # noqa: BLE001 - gone or unreadable: not ours to delete
        return
    if BUILDING_KEY in meta or MANIFEST_KEY in meta:
        client.delete_collection(name)


def folder_replaceable(folder: Path) -> None:
    """An embedded folder must be absent, empty or Qdrant's own: never a folder of the user's files."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise IndexProblem(f"{folder} is a file, not a folder; choose another --index-dir")
    foreign = sorted(n for n in (p.name for p in folder.iterdir()) if n not in LOCAL_ENTRIES and not n.startswith(STORE_FILE_TMP))
    if (folder / "manifest.json").exists():
        raise IndexProblem(f"{folder} holds a qa FAISS index, not a Qdrant one; leave out --store qdrant to use it, or choose another --index-dir")
    if foreign:
        raise IndexProblem(f"{folder} holds files that are not an embedded Qdrant index ({', '.join(foreign[:3])}); choose another --index-dir")


def local_entries(folder: Path) -> list[str]:
    """The names in `folder` that embedded Qdrant or qa's store file own (what a failed first build may remove)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [n for n in names if n in LOCAL_ENTRIES or n.startswith(STORE_FILE_TMP)]


def write_store_file(folder: Path, collection: str) -> None:
    """Record in the folder that it holds qa's Qdrant index, and which collection (qa.index.vectors.recorded_store reads it).

    Written beside Qdrant's own files once the collection is complete, atomically (temp + rename).
    """
    from qa.index.vectors import STORE_FILE

    tmp = folder / f"{STORE_FILE_TMP}{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"store": "qdrant", "collection": collection}) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / STORE_FILE)
