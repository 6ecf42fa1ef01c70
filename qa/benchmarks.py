"""Public benchmarks through our own pipeline: SQuAD v1.1 and v2.0 dev (open retrieval over
their paragraphs; v2.0 adds questions the paragraphs do not answer, to measure abstention) and
any dataset in the BEIR layout (e.g. SciFact).

Benchmark records are turned into `Document`s directly (one per paragraph / abstract) and
indexed with the usual chunking, so what is measured is the product's retrieval, not a
special path. A document can give several passages; its rank is that of its best passage
(the first time it shows up in the passage ranking). Indexes are cached under `index/`,
keyed by the source file, the sample and the index settings.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import metrics as M
from .config import INDEX_ROOT, PROJECT_ROOT, RETRIEVERS, IndexSettings, default_settings
from .errors import IndexError_, UsageError
from .records import Corpus, Document, Hit, LineSpan

BENCH_DIR = (PROJECT_ROOT.parent / "shared" / "bench").resolve()
SQUAD_VERSIONS = ("1.1", "2.0")
SQUAD_PARAGRAPHS = "squad-dev-v{version}.paragraphs.jsonl"
SQUAD_QUESTIONS = "squad-dev-v{version}.questions.jsonl"

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class Benchmark:
    """A retrieval benchmark: documents, queries and the ids of each query's relevant documents."""

    name: str
    source: Path  # the file the documents come from (its fingerprint keys the cached index)
    documents: list[Document]
    queries: dict[str, str]  # query id -> text
    qrels: dict[str, set[str]]  # query id -> relevant document ids (Document.path)
    answers: dict[str, list[str]] = field(default_factory=dict)  # query id -> gold answers (SQuAD)
    key: str = ""  # what else the index depends on (the sample)


def make_document(doc_id: str, title: str, text: str) -> Document:
    """One benchmark record as a Document whose `path` is the record's id."""
    text = " ".join(text.split()) or " ".join(title.split())
    return Document(doc_id=f"{doc_id}#1", path=doc_id, title=" ".join(title.split()), text=text, spans=(LineSpan(0, len(text), 1),))


# ------------------------------------------------------------------ loaders


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    try:
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    raise UsageError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
                if not isinstance(obj, dict):
                    raise UsageError(f"{path}:{n}: expected a JSON object")
                rows.append(obj)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    return rows


def find_qrels(folder: Path, split: str = "test") -> Path:
    for cand in (folder / "qrels" / f"{split}.tsv", folder / f"qrels-{split}.tsv", folder / f"{split}.tsv"):
        if cand.is_file():
            return cand
    raise UsageError(f"{folder}: no qrels file (looked for qrels/{split}.tsv and qrels-{split}.tsv)")


def load_beir(folder: Path, split: str = "test") -> Benchmark:
    """A BEIR-layout dataset: corpus.jsonl, queries.jsonl, qrels/<split>.tsv (or qrels-<split>.tsv)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"no such folder: {folder}")
    for name in ("corpus.jsonl", "queries.jsonl"):
        if not (folder / name).is_file():
            raise UsageError(f"{folder} is not a BEIR dataset: {name} is missing")
    qrels: dict[str, set[str]] = {}
    qrels_path = find_qrels(folder, split)
    with qrels_path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.reader(fh, delimiter="\t"), start=1):
            if not row or (n == 1 and row[0] == "query-id"):
                continue
            if len(row) < 3:
                raise UsageError(f"{qrels_path}:{n}: expected query-id, corpus-id, score")
            try:
                score = float(row[2])
            except ValueError:
                raise UsageError(f"{qrels_path}:{n}: score {row[2]!r} is not a number") from None
            if score > 0:
                qrels.setdefault(row[0], set()).add(row[1])
    docs = [make_document(str(r["_id"]), str(r.get("title") or ""), str(r.get("text") or "")) for r in _read_jsonl(folder / "corpus.jsonl")]
    queries = {str(r["_id"]): str(r.get("text") or "") for r in _read_jsonl(folder / "queries.jsonl")}
    missing = [q for q in qrels if q not in queries]
    if missing:
        raise UsageError(f"{qrels_path}: query {missing[0]} is not in queries.jsonl")
    queries = {q: queries[q] for q in qrels if queries[q].strip()}
    return Benchmark(name=folder.name, source=(folder / "corpus.jsonl").resolve(), documents=docs, queries=queries, qrels=qrels)


def load_squad(bench_dir: Path = BENCH_DIR, articles: int = 12, sample: int = 300, seed: int = 0, version: str = "1.1") -> Benchmark:
    """A deterministic SQuAD dev sample: all paragraphs of `articles` random articles as the
    corpus, `sample` random questions on them as queries, each question's paragraph as its one
    relevant document and its reference answers as gold. In v2.0 a question the paragraph does
    not answer has no relevant document and no answers: the right behaviour is to abstain."""
    if version not in SQUAD_VERSIONS:
        raise UsageError(f"unknown SQuAD version {version!r}: choose one of {', '.join(SQUAD_VERSIONS)}")
    paragraphs_path = Path(bench_dir) / SQUAD_PARAGRAPHS.format(version=version)
    questions_path = Path(bench_dir) / SQUAD_QUESTIONS.format(version=version)
    if not paragraphs_path.is_file() or not questions_path.is_file():
        raise UsageError(f"SQuAD dev files not found in {bench_dir} ({paragraphs_path.name}, {questions_path.name})")
    paragraphs = _read_jsonl(paragraphs_path)
    titles = sorted({p["title"] for p in paragraphs})
    rng = random.Random(seed)
    chosen = set(rng.sample(titles, min(articles, len(titles))))
    docs = [make_document(p["pid"], p["title"].replace("_", " "), p["text"]) for p in paragraphs if p["title"] in chosen]
    questions = [q for q in _read_jsonl(questions_path) if q["title"] in chosen]
    picked = sorted(rng.sample(range(len(questions)), min(sample, len(questions))))
    qs = [questions[i] for i in picked]
    return Benchmark(
        name=f"squad-v{version}-dev",
        source=paragraphs_path.resolve(),
        documents=docs,
        queries={q["id"]: q["question"] for q in qs},
        qrels={q["id"]: {q["pid"]} for q in qs if not q.get("is_impossible")},
        answers={q["id"]: [] if q.get("is_impossible") else list(q["answers"]) for q in qs},
        key=f"articles={articles};seed={seed}",
    )


# ------------------------------------------------------------------ index


def bench_index_dir(bench: Benchmark) -> Path:
    digest = hashlib.sha256(f"{bench.source}\n{bench.key}".encode()).hexdigest()[:10]
    return INDEX_ROOT / f"bench-{bench.name}-{digest}"


def open_bench_engine(
    bench: Benchmark,
    index_dir: Path | None = None,
    settings: IndexSettings | None = None,
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
):  # type: ignore[no-untyped-def]
    """The Engine over the benchmark's documents, from the cached index when it is current."""
    from .engine import Engine
    from .retrieve import Searcher
    from .store import build_index, load_index, read_manifest, staleness

    settings = settings or default_settings()
    target = Path(index_dir) if index_dir else bench_index_dir(bench)
    index = None
    try:
        manifest = read_manifest(target)
        if staleness(manifest, [bench.source], settings) is None and manifest.get("backend") == settings.backend:
            if manifest["counts"].get("documents") == len(bench.documents):
                index = load_index(target)
    except IndexError_:
        index = None
    if index is None:
        if notify:
            notify(f"indexing {len(bench.documents)} {bench.name} documents into {target} (cached for next time)")
        corpus = Corpus(documents=tuple(bench.documents), files=(bench.source.name,), root=str(bench.source.parent))
        index = build_index([bench.source], target, settings, progress=progress, notify=notify, corpus=corpus)
    return Engine(index=index, searcher=Searcher(index))


# ------------------------------------------------------------------ runs


def doc_ranking(hits: Sequence[Hit]) -> list[tuple[str, float]]:
    """Passage hits → documents ranked by their best passage (first appearance)."""
    seen: dict[str, float] = {}
    for h in hits:
        seen.setdefault(h.passage.path, h.score)
    return list(seen.items())


def run_retrieval(
    engine,  # type: ignore[no-untyped-def]
    bench: Benchmark,
    retriever: str,
    depth: int,
    progress: Progress | None = None,
    batch: int = 64,
) -> dict[str, list[tuple[str, float]]]:
    """Document rankings for every query (query id -> [(doc id, score), ...], best first)."""
    qids = list(bench.queries)
    runs: dict[str, list[tuple[str, float]]] = {}
    # a document gives 1-3 passages: retrieve enough passages to fill `depth` documents
    k = min(len(engine.index.passages), max(depth * 3, 30))
    for start in range(0, len(qids), batch):
        chunk = qids[start : start + batch]
        results = engine.search_many([bench.queries[q] for q in chunk], k=k, retriever=retriever)
        for q, hits in zip(chunk, results, strict=True):
            runs[q] = doc_ranking(hits)[:depth]
        if progress:
            progress(f"{retriever}", min(start + batch, len(qids)), len(qids))
    return runs


def score_runs(runs: dict[str, list[tuple[str, float]]], qrels: dict[str, set[str]], recall_ks: Sequence[int]) -> dict[str, float]:
    rows = []
    for q, ranked in runs.items():
        if q not in qrels:
            continue  # a question nothing answers (SQuAD v2.0): scored by abstention, not here
        ids = [d for d, _ in ranked]
        rel = qrels[q]
        row = {f"recall@{k}": M.recall_at(ids, rel, k) for k in recall_ks}
        row["mrr@10"] = M.mrr_at(ids, rel, 10)
        row["ndcg@10"] = M.ndcg_at(ids, rel, 10)
        rows.append(row)
    return M.mean_metrics(rows)


def run_benchmark(
    engine,  # type: ignore[no-untyped-def]
    bench: Benchmark,
    retrievers: Sequence[str] = RETRIEVERS,
    recall_ks: Sequence[int] = (1, 5, 20, 100),
    answers: bool = False,
    progress: Progress | None = None,
    write_run: Callable[[str, dict[str, list[tuple[str, float]]]], None] | None = None,
) -> dict[str, Any]:
    """Every retriever on every query; answer EM/F1 (hybrid, as `qa ask` does) when asked.
    `write_run(retriever, runs)` receives each retriever's ranked lists (for TREC files)."""
    depth = max(max(recall_ks), 10)
    out: dict[str, Any] = {
        "dataset": bench.name,
        "documents": len(bench.documents),
        "passages": len(engine.index.passages),
        "queries": len(bench.queries),
        "index_dir": str(engine.index.path),
        "retrievers": {},
    }
    for name in retrievers:
        started = time.perf_counter()
        runs = run_retrieval(engine, bench, name, depth, progress)
        scores = score_runs(runs, bench.qrels, recall_ks)
        scores["seconds"] = round(time.perf_counter() - started, 2)
        out["retrievers"][name] = scores
        if write_run is not None:
            write_run(name, runs)
    if answers and bench.answers:
        out["answers"] = run_answers(engine, bench, progress)
    return out


def run_answers(engine, bench: Benchmark, progress: Progress | None = None, batch: int = 32) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """EM/F1 (×100, SQuAD style) of the answer layer over the open corpus, abstentions scoring 0.

    On a question nothing answers (SQuAD v2.0) EM and F1 are 1 for an abstention and 0 for any
    answer, as in the official v2.0 script; hit@1 is over answerable questions only, and the
    abstention precision/recall/F1 are reported when there are such questions.
    """
    try:
        import qa.answer  # noqa: F401
    except ImportError:
        return {"skipped": "the answer layer (qa.answer) is not installed"}
    qids = list(bench.queries)
    em, f1, hit, should, did = [], [], [], [], []
    started = time.perf_counter()
    for start in range(0, len(qids), batch):
        chunk = qids[start : start + batch]
        answers = engine.ask_many([bench.queries[q] for q in chunk], k=5, retriever="hybrid")
        for q, a in zip(chunk, answers, strict=True):
            gold = bench.answers[q]
            text = None if a.abstained else a.text
            should.append(not gold)
            did.append(a.abstained)
            if not gold:
                em.append(float(a.abstained))
                f1.append(float(a.abstained))
                continue
            em.append(M.exact_match(text, gold))
            f1.append(M.token_f1(text, gold))
            hit.append(0.0 if a.abstained else max(M.answer_in(a.sentence, gold), M.answer_in(text, gold)))
        if progress:
            progress("answers", min(start + batch, len(qids)), len(qids))
    out: dict[str, Any] = {
        "exact_match": 100 * M.mean(em),
        "f1": 100 * M.mean(f1),
        "hit@1": M.mean(hit),  # a gold answer inside the returned answer sentence
        "abstained": sum(did),
        "questions": len(qids),
        "seconds": round(time.perf_counter() - started, 2),
    }
    if any(should):
        out["unanswerable"] = sum(should)
        out["abstention"] = M.abstention_prf(should, did)
    return out
