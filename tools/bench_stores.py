"""faiss vs qdrant-embedded on this machine, in one run: build time, search p50/p95, recall@10.

    .venv/bin/python tools/bench_stores.py [--sizes 10000 100000] [--queries 200] [--json out.json]

Vectors are synthetic (qa.eval.speed.synthetic_vectors: clustered unit vectors, 384-d, and queries
near stored ones), so no model runs; the BM25 side indexes real passage text (the seeds'
passages, cycled, each copy tagged with a distinct word so no two are identical) and queries
with the first words of a random passage. Recall@10 is the dense top-10 against exact search
(numpy, inner product). Both stores are searched through the same Store interface the engine
uses; hybrid is the engine's fusion for faiss and Qdrant's own (prefetch + RRF) for qdrant.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answers.retrieve import RRF_K, fuse
from qa.config import ChunkSettings
from qa.documents.chunk import chunk_documents
from qa.documents.ingest import load_corpus
from qa.eval.speed import machine, percentiles, synthetic_queries, synthetic_vectors
from qa.records import Passage


def passages_and_texts(n: int) -> tuple[list[Passage], list[str]]:
    base = chunk_documents(load_corpus([ROOT / "seeds"]).documents, ChunkSettings())
    out, texts = [], []
    for i in range(n):
        p = base[i % len(base)]
        q = Passage.from_json({**p.to_json(), "pid": f"{p.pid}~{i}", "text": f"{p.text} copy{i}"})
        out.append(q)
        texts.append(f"{q.title}\n{q.text}" if q.title else q.text)
    return out, texts


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    scores = queries @ vectors.T
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def recall(found: list[list[int]], exact: np.ndarray, k: int = 10) -> float:
    return float(np.mean([len(set(f[:k]) & set(e[:k].tolist())) / k for f, e in zip(found, exact, strict=True)]))


def timed(call: Any, items: list[Any]) -> tuple[list[Any], dict[str, float | None]]:
    for it in items[:5]:
        call(it)  # warm-up
    out, times = [], []
    for it in items:
        t = time.perf_counter()
        out.append(call(it))
        times.append(time.perf_counter() - t)  # seconds: percentiles() reports ms
    return out, percentiles(times)


def bench_faiss(work: Path, passages: list[Passage], vectors: np.ndarray, texts: list[str]) -> tuple[Any, float]:
    from qa.index import dense
    from qa.index.folder import Index
    from qa.index.lexical import Bm25Index
    from qa.index.vectors.faiss_store import FaissStore

    started = time.perf_counter()
    index = dense.build(vectors)
    dense.save(index, work / "vectors.faiss")
    bm25 = Bm25Index.build(texts)
    bm25.save(work / "bm25")
    with open(work / "passages.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(p.to_json(), ensure_ascii=False) + "\n" for p in passages)
    seconds = time.perf_counter() - started
    dense.set_threads(1)
    manifest = {"backend": "synthetic", "dimension": vectors.shape[1], "index_kind": dense.kind_of(index)}
    return FaissStore(Index(work, manifest, passages, index, bm25)), seconds


def bench_qdrant(work: Path, passages: list[Passage], vectors: np.ndarray, texts: list[str]) -> tuple[Any, float]:
    from qa.index.vectors.qdrant_store import QdrantTarget, build_collection, connect

    target = QdrantTarget(collection="bench", folder=work)
    started = time.perf_counter()
    client = connect(target, create=True)
    manifest = {"backend": "synthetic", "dimension": vectors.shape[1], "counts": {"passages": len(passages)}}
    store = build_collection(client, target, manifest, passages, vectors, texts)
    return store, time.perf_counter() - started


def run(n: int, nq: int, stores: list[str]) -> dict[str, Any]:
    passages, texts = passages_and_texts(n)
    vectors = synthetic_vectors(n)
    queries = synthetic_queries(vectors, nq)
    rng = np.random.default_rng(2)
    words = [" ".join(texts[i].split()[:8]) for i in rng.integers(0, n, nq)]
    exact = exact_top(vectors, queries)
    result: dict[str, Any] = {"passages": n, "queries": nq}
    for name, bench in (("faiss", bench_faiss), ("qdrant-embedded", bench_qdrant)):
        if name not in stores:
            continue
        work = Path(tempfile.mkdtemp(prefix=f"qa-bench-{name}-"))
        try:
            store, build_s = bench(work, passages, vectors, texts)
            dense_hits, dense_t = timed(lambda q, s=store: s.dense_search(q, 10), list(queries))
            _, lex_t = timed(lambda w, s=store: s.lexical_search(w, 50), words)

            def hybrid(i: int, s: Any = store) -> list[tuple[int, float]]:
                lists = s.search_lists(queries[i], words[i], 50, RRF_K)
                return lists.pop("fused", None) or fuse(lists)

            _, hyb_t = timed(hybrid, list(range(nq)))
            size = sum(f.stat().st_size for f in work.rglob("*") if f.is_file())
            result[name] = {
                "build_seconds": round(build_s, 2),
                "dense_ms": dense_t,
                "bm25_ms": lex_t,
                "hybrid_ms": hyb_t,
                "recall_at_10": round(recall([[i for i, _ in h] for h in dense_hits], exact), 4),
                "disk_mb": round(size / 2**20, 1),
            }
            if hasattr(store, "close"):
                store.close()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(json.dumps({name: result[name], "passages": n}), flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--stores", nargs="+", default=["faiss", "qdrant-embedded"], choices=["faiss", "qdrant-embedded"])
    args = ap.parse_args()
    out = {"machine": machine(), "runs": [run(n, args.queries, args.stores) for n in args.sizes]}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
