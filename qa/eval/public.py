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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qa.config import RETRIEVERS, IndexSettings, default_settings
from qa.errors import IndexProblem, UsageError
from qa.eval import metrics as M
from qa.records import Corpus, Document, Hit, LineSpan

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
    contexts: dict[str, str] = field(default_factory=dict)  # query id -> its paragraph (SQuAD)
    key: str = ""  # what else the index depends on (the split)
    article_of: dict[str, str] = field(default_factory=dict)  # document id -> its article (product, for reviews)
    query_article: dict[str, str] = field(default_factory=dict)  # query id -> the article it was written on


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


def load_squad(bench_dir: Path | None = None, split: str = "test", sample: int = 300, seed: int = 0, version: str = "1.1") -> Benchmark:
    """SQuAD dev questions of one split of `qa.squad_split` (by article; the reader was trained
    on "train" and calibrated on "validation", so only "test" measures it honestly): all
    paragraphs of the split's articles form the corpus, `sample` seeded random questions of them
    (0: all) are the queries, each with its paragraph as the one relevant document and its
    reference answers as gold. In v2.0 a question the paragraph does not answer has no relevant
    document and no answers: the right behaviour is to abstain."""
    from qa.eval import squad_split

    if version not in SQUAD_VERSIONS:
        raise UsageError(f"unknown SQuAD version {version!r}: choose one of {', '.join(SQUAD_VERSIONS)}")
    if split not in squad_split.SPLITS:
        raise UsageError(f"unknown split {split!r}: choose one of {', '.join(squad_split.SPLITS)}")
    data = squad_split.load(bench_dir)
    paragraphs = data.paragraphs(split)
    docs = [make_document(p["pid"], p["title"].replace("_", " "), p["text"]) for p in paragraphs]
    questions = data.questions(split, version)
    rng = random.Random(seed)
    if sample and sample < len(questions):
        questions = [questions[i] for i in sorted(rng.sample(range(len(questions)), sample))]
    source = squad_split.bench_dir(bench_dir) / SQUAD_PARAGRAPHS.format(version="1.1")
    return Benchmark(
        name=f"squad-v{version}-dev-{split}",
        source=source.resolve() if source.is_file() else (squad_split.bench_dir(bench_dir) / SQUAD_PARAGRAPHS.format(version=version)).resolve(),
        documents=docs,
        queries={q["id"]: q["question"] for q in questions},
        qrels={q["id"]: {q["pid"]} for q in questions if not q["is_impossible"]},
        answers={q["id"]: [] if q["is_impossible"] else list(q["answers"]) for q in questions},
        contexts={q["id"]: data.para_text[q["pid"]] for q in questions},
        key=f"split={split}",
        article_of={p["pid"]: p["title"] for p in paragraphs},
        query_article={q["id"]: q["title"] for q in questions},
    )


SQUADSHIFTS = {"new_wiki": "new_wiki_v1.0.json", "amazon_reviews": "amazon_reviews_v1.0.json"}
# what each SQuADShifts file may be used for (../shared/bench/README.md): the reviews choose and
# calibrate, never train; the newer Wikipedia articles only report
SQUADSHIFTS_USE = {"new_wiki": "test", "amazon_reviews": "validation"}


def load_squadshifts(bench_dir: Path | None = None, name: str = "new_wiki", sample: int = 300, seed: int = 0) -> Benchmark:
    """A SQuADShifts set (Miller et al. 2020: SQuAD's protocol on other text): every paragraph
    is a document, `sample` seeded random questions (0: all) the queries, each answerable by its
    paragraph. An article (a product, for the reviews) groups paragraphs, so a question can be
    asked with its own article left out of the passages (see `hits_leaving_out`)."""
    from qa.eval import squad_split

    if name not in SQUADSHIFTS:
        raise UsageError(f"unknown SQuADShifts set {name!r}: choose one of {', '.join(SQUADSHIFTS)}")
    path = squad_split.bench_dir(bench_dir) / "squadshifts" / SQUADSHIFTS[name]
    if not path.is_file():
        raise UsageError(f"SQuADShifts file not found: {path} (set --bench-dir or QA_BENCH_DIR)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a SQuAD-format file ({exc})") from None
    docs, article_of, questions = [], {}, []
    for ai, article in enumerate(raw["data"]):
        title = str(article.get("title") or f"article {ai + 1}")
        for pi, p in enumerate(article["paragraphs"]):
            pid = f"{ai:03d}__{pi:03d}"
            docs.append(make_document(pid, title.replace("_", " "), p["context"]))
            article_of[pid] = title
            for q in p["qas"]:
                answers = [a["text"] for a in q.get("answers") or []]
                if answers:
                    questions.append({"id": q["id"], "question": q["question"], "answers": answers, "pid": pid, "title": title, "context": p["context"]})
    if sample and sample < len(questions):
        questions = [questions[i] for i in sorted(random.Random(seed).sample(range(len(questions)), sample))]
    return Benchmark(
        name=f"squadshifts-{name}",
        source=path.resolve(),
        documents=docs,
        queries={q["id"]: q["question"] for q in questions},
        qrels={q["id"]: {q["pid"]} for q in questions},
        answers={q["id"]: q["answers"] for q in questions},
        contexts={q["id"]: q["context"] for q in questions},
        article_of=article_of,
        query_article={q["id"]: q["title"] for q in questions},
    )


def hits_leaving_out(engine, bench: Benchmark, qids: Sequence[str], k: int = 5, retriever: str = "hybrid") -> list[list[Hit]]:  # type: ignore[no-untyped-def]
    """Each question's top-k passages once every passage of its own article is taken away:
    the realistic "the documents do not say it" (a folder about something near, not about
    this). The search reaches k plus the largest article's passage count, so the k kept are
    exactly the fused ranking's best k outside the article (up to the fusion of rank lists
    that still counted the article: ranks, not scores, shift)."""
    per_article: dict[str, int] = {}
    for p in engine.index.passages:
        a = bench.article_of.get(p.path, p.path)
        per_article[a] = per_article.get(a, 0) + 1
    depth = min(len(engine.index.passages), k + max(per_article.values(), default=0))
    found = engine.search_many([bench.queries[q] for q in qids], k=depth, retriever=retriever)
    out = []
    for q, hits in zip(qids, found, strict=True):
        own = bench.query_article.get(q)
        kept = [h for h in hits if bench.article_of.get(h.passage.path) != own][:k]
        out.append([replace(h, rank=i) for i, h in enumerate(kept, start=1)])
    return out


# ------------------------------------------------------------------ index


def bench_index_dir(bench: Benchmark) -> Path:
    digest = hashlib.sha256(f"{bench.source}\n{bench.key}".encode()).hexdigest()[:10]
    from qa.config import index_root  # looked up at call time: tests point it at a temp folder

    return index_root() / f"bench-{bench.name}-{digest}"


def open_bench_engine(
    bench: Benchmark,
    index_dir: Path | None = None,
    settings: IndexSettings | None = None,
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
):  # type: ignore[no-untyped-def]
    """The Engine over the benchmark's documents, from the cached index when it is current."""
    from qa.answers.retrieve import Searcher
    from qa.engine import Engine
    from qa.index.folder import build_index, load_index, read_manifest, staleness

    settings = settings or default_settings()
    target = Path(index_dir) if index_dir else bench_index_dir(bench)
    index = None
    try:
        manifest = read_manifest(target)
        if staleness(manifest, [bench.source], settings) is None and manifest.get("backend") == settings.backend:
            if manifest["counts"].get("documents") == len(bench.documents):
                index = load_index(target)
    except IndexProblem:
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
    leave_out_article: bool = False,
) -> dict[str, Any]:
    """Every retriever on every query; answer EM/F1 (hybrid, as `qa ask` does) when asked.
    `write_run(retriever, runs)` receives each retriever's ranked lists (for TREC files).
    `leave_out_article`: the answerable questions asked again without their article
    ("not_in_sources": how often "not found" is said when the documents do not say it)."""
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
        if bench.contexts:
            out["reading"] = run_reading(bench, progress)
        if leave_out_article:
            asked = replace(bench, queries={q: t for q, t in bench.queries.items() if bench.answers.get(q)})
            out["not_in_sources"] = run_answers(engine, asked, progress, leave_out_article=True)
    return out


def squad_scores(bench: Benchmark, predictions: dict[str, str | None]) -> dict[str, Any]:
    """SQuAD EM/F1 (×100) overall and, for v2.0, on answerable (HasAns) and unanswerable
    (NoAns) questions, as the official v2.0 script defines them: None is an abstention, which
    scores 1 on a question nothing answers and 0 on any other."""
    em: dict[str, float] = {}
    f1: dict[str, float] = {}
    for q, pred in predictions.items():
        gold = bench.answers[q]
        if not gold:
            em[q] = f1[q] = float(pred is None)
        else:
            em[q], f1[q] = M.exact_match(pred, gold), M.token_f1(pred, gold)
    has = [q for q in predictions if bench.answers[q]]
    out: dict[str, Any] = {"exact_match": 100 * M.mean(em.values()), "f1": 100 * M.mean(f1.values()), "questions": len(predictions)}
    if len(has) < len(predictions):
        no = [q for q in predictions if not bench.answers[q]]
        out["has_answer"] = {"exact_match": 100 * M.mean(em[q] for q in has), "f1": 100 * M.mean(f1[q] for q in has), "questions": len(has)}
        out["no_answer"] = {"exact_match": 100 * M.mean(em[q] for q in no), "f1": 100 * M.mean(f1[q] for q in no), "questions": len(no)}
        out["unanswerable"] = len(no)
        out["abstention"] = M.abstention_prf([not bench.answers[q] for q in predictions], [predictions[q] is None for q in predictions])
    out["abstained"] = sum(p is None for p in predictions.values())
    return out


def reliability(conf_right: Sequence[tuple[float, bool]], edges: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)) -> list[dict[str, Any]]:
    """How often an answer given with confidence in each bin was right (token F1 ≥ 0.5)."""
    rows = []
    for lo, hi in zip(edges, edges[1:]):
        inside = [r for c, r in conf_right if lo <= c < hi or (hi == edges[-1] and c == hi)]
        rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "answers": len(inside), "right": sum(inside), "share_right": round(sum(inside) / len(inside), 3) if inside else None})
    return rows


def best_span_text(reading: Any, context: str) -> str | None:
    """The reader's best span in a one-paragraph reading, trimmed as answers are (None: no span)."""
    from qa.answers.answer import trim_span

    if not reading.spans:
        return None
    a, b = trim_span(context, reading.spans[0].start, reading.spans[0].end)
    return context[a:b]


def gold_readings(reader: Any, bench: Benchmark, progress: Progress | None = None, batch: int = 32) -> dict[str, Any]:
    """Each question read with its own gold paragraph only, by `reader` (any `qa.answers.reader.Reader`:
    the shipped one, or a candidate being validated), keyed by question id."""
    qids = [q for q in bench.queries if q in bench.contexts]
    out: dict[str, Any] = {}
    for start in range(0, len(qids), batch):
        chunk = qids[start : start + batch]
        readings = reader.read_many([bench.queries[q] for q in chunk], [[bench.contexts[q]] for q in chunk])
        out.update(zip(chunk, readings, strict=True))
        if progress:
            progress("reading", min(start + batch, len(qids)), len(qids))
    return out


def run_reading(bench: Benchmark, progress: Progress | None = None, batch: int = 32) -> dict[str, Any]:
    """Reading comprehension, the setting published readers report: each question with its
    own gold paragraph; abstain when "no answer" beats the best span by the margin calibrated
    on the validation articles."""
    from qa.answers.answer import reader

    r = reader()
    margin = float(r.calibration["gold_paragraph_margin"])
    started = time.perf_counter()
    readings = gold_readings(r, bench, progress, batch)
    preds = {q: best_span_text(rd, bench.contexts[q]) if rd.margin >= margin else None for q, rd in readings.items()}
    out = squad_scores(bench, preds)
    out["seconds"] = round(time.perf_counter() - started, 2)
    out["null_margin"] = margin
    return out


def run_answers(engine, bench: Benchmark, progress: Progress | None = None, batch: int = 32, leave_out_article: bool = False) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Open retrieval: `qa ask`'s answer (hybrid, top 5 passages) to every question, scored as
    SQuAD scores it (see `squad_scores`); hit@1 (a gold answer inside the returned sentence)
    is over answerable questions.

    `leave_out_article`: every question asked with its own article's passages taken away
    (`hits_leaving_out`), so nothing left answers it and the right answer is "not found":
    scored as unanswerable questions are (abstention)."""
    from qa.answers.answer import abstain_below, answer_from_hits

    threshold = abstain_below()
    qids = list(bench.queries)
    gold_of = {q: ([] if leave_out_article else bench.answers[q]) for q in qids}
    preds: dict[str, str | None] = {}
    hit = []
    conf_right: list[tuple[float, bool]] = []  # the best answer's confidence, and was it right
    started = time.perf_counter()
    for start in range(0, len(qids), batch):
        chunk = qids[start : start + batch]
        # every question answered (min_score 0) so the reliability table sees each confidence;
        # the answer counts as given when it clears the calibrated threshold, as in `qa ask`
        if leave_out_article:
            answers = answer_from_hits([bench.queries[q] for q in chunk], hits_leaving_out(engine, bench, chunk), engine.locator, min_score=0.0)
        else:
            answers = engine.ask_many([bench.queries[q] for q in chunk], k=5, retriever="hybrid", min_score=0.0)
        for q, a in zip(chunk, answers, strict=True):
            gold = gold_of[q]
            given = not a.abstained and a.confidence >= threshold
            preds[q] = a.text if given else None
            conf_right.append((a.confidence, bool(gold) and a.text is not None and M.token_f1(a.text, gold) >= 0.5))
            if gold:
                hit.append(max(M.answer_in(a.sentence, gold), M.answer_in(a.text, gold)) if given else 0.0)
        if progress:
            progress("answers, own article left out" if leave_out_article else "answers", min(start + batch, len(qids)), len(qids))
    out = squad_scores(replace(bench, answers=gold_of), preds)
    if hit:
        out["hit@1"] = M.mean(hit)
    out["reliability"] = reliability(conf_right)
    out["seconds"] = round(time.perf_counter() - started, 2)
    return out
