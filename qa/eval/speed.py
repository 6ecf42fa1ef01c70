"""`qa bench`: speed and memory of this machine, measured in one run.

Everything here returns plain dicts (seconds, counts, bytes) so the CLI prints a table or
JSON from the same result and tests can check the structure without timing anything.

What is measured and why it is measured that way:
- the encoder is timed twice on the same passages: "bare" (the model call alone on
  pre-tokenized, length-sorted batches — the ceiling) and through `Encoder.encode` (what an
  index build uses); their ratio shows the overhead the wrapper adds;
- the seeds index is built cold (a fresh `qa index` process: imports + model load + build)
  and warm (in this process, model loaded), each into a throw-away directory — never
  index/seeds, which other processes may be using;
- latencies are per question, after a warm-up, each question distinct (the query-embedding
  cache would otherwise hide the encoder), with FAISS on one thread as `qa` runs it;
- the scaling curve uses synthetic vectors (see `synthetic_vectors`) because embedding a
  million real passages takes a day on this CPU; BM25 at scale repeats the seeds passages.
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

Say = Callable[[str], None]

DEFAULT_SIZES = (10_000, 100_000)
SIZE_1M = 1_000_000
QUICK_SIZES = (2_000,)
BM25_SIZES = (10_000, 100_000)
QUICK_BM25_SIZES = (2_000,)


# ------------------------------------------------------------------ small helpers


def percentiles(samples: Sequence[float]) -> dict[str, float | None]:
    """p50/p95 in milliseconds (None for no samples)."""
    if not samples:
        return {"p50_ms": None, "p95_ms": None, "n": 0}
    arr = np.asarray(samples, dtype=np.float64) * 1000.0
    return {"p50_ms": round(float(np.percentile(arr, 50)), 3), "p95_ms": round(float(np.percentile(arr, 95)), 3), "n": len(arr)}


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def current_rss_bytes() -> int | None:
    """Resident memory now (Linux /proc); None where unavailable."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# Runs `qa` like its console script does, then prints the process's own peak RSS (VmHWM,
# which exec resets; getrusage(RUSAGE_CHILDREN) would count the forked parent's pages too).
_QA_WRAPPER = (
    "import sys\n"
    "from qa.cli import run\n"
    "rc = run(sys.argv[1:])\n"
    "try:\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    sys.stderr.write('\\nQA_BENCH_PEAK_KB ' + hwm + '\\n')\n"
    "except (OSError, IndexError):\n"
    "    pass\n"
    "sys.exit(rc)\n"
)


def qa_process(*args: str) -> list[str]:
    """argv that runs `qa ARGS` in a fresh interpreter and reports its peak RSS on stderr."""
    return [sys.executable, "-c", _QA_WRAPPER, *args]


def timed_run(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, int, str, int | None]:
    """(wall seconds, exit code, last stderr message, peak RSS bytes or None) of a subprocess."""
    started = time.perf_counter()
    proc = subprocess.run(list(argv), capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    peak = None
    lines = []
    for line in proc.stderr.strip().splitlines():
        if line.startswith("QA_BENCH_PEAK_KB "):
            peak = int(line.split()[1]) * 1024
        elif line.strip():
            lines.append(line)
    return seconds, proc.returncode, lines[-1] if lines else "", peak


# ------------------------------------------------------------------ questions


def bench_questions(passages: Sequence[Any], n: int, gold: Path | None = None) -> list[str]:
    """`n` distinct questions: a gold file's first, then ones made from passage sentences.

    Made-up questions ("What about <the first words of a sentence>?") exercise the same code
    as real ones; only their answers would be odd, and latency does not look at answers.
    """
    out: list[str] = []
    if gold is not None and gold.exists():
        import json

        from qa.jsonl import jsonl_lines

        for line in jsonl_lines(gold.read_text(encoding="utf-8")):
            try:
                q = json.loads(line).get("question")
            except (ValueError, AttributeError):
                continue
            if isinstance(q, str) and q.strip():
                out.append(q.strip())
    seen = set(out)
    for width in (8, 6, 10, 5, 12):
        for p in passages:
            for sentence in p.text.replace("?", ".").split(". "):
                words = sentence.split()
                if len(words) < width:
                    continue
                q = "What about " + " ".join(words[:width]).rstrip(",;:") + "?"
                if q not in seen:
                    seen.add(q)
                    out.append(q)
                if len(out) >= n:
                    return out[:n]
    return out[:n]


# ------------------------------------------------------------------ encoder


def bare_encode_seconds(encoder: Any, texts: Sequence[str], batch_size: int) -> float:
    """The model call alone, on the same texts and batch size (the throughput ceiling)."""
    if encoder.backend == "torch":
        started = time.perf_counter()
        encoder.encode_batch(texts, batch_size)
        return time.perf_counter() - started
    from qa.index.encoders import longest_first

    encs = encoder.tokenize(texts)  # tokenizing is left out of the timing: the model call alone
    batches = [[encs[i] for i in group] for group in longest_first([len(e.ids) for e in encs], batch_size)]
    started = time.perf_counter()
    for batch in batches:
        encoder.embed_tokens(batch)
    return time.perf_counter() - started


def measure_encoder(encoder: Any, texts: Sequence[str], repeats: int = 3) -> dict[str, Any]:
    """Throughput of the bare model and of Encoder.encode, alternated, best of `repeats`.

    Best-of, alternated: other processes share these cores, and the least disturbed run
    is the closest to what the code itself costs.
    """
    batch = int(getattr(encoder, "batch_size", 32))
    encoder.encode(list(texts[: min(8, len(texts))]), batch_size=batch)  # warm-up
    bare, wrapped = [], []
    for _ in range(max(1, repeats)):
        bare.append(bare_encode_seconds(encoder, texts, batch))
        started = time.perf_counter()
        encoder.encode(texts, batch_size=batch)
        wrapped.append(time.perf_counter() - started)
    n = len(texts)
    b, w = min(bare), min(wrapped)
    return {
        "backend": encoder.backend,
        "batch_size": batch,
        "passages": n,
        "load_seconds": round(float(getattr(encoder, "load_seconds", 0.0)), 3),
        "bare_passages_per_second": round(n / b, 2),
        "encode_passages_per_second": round(n / w, 2),
        "encode_vs_bare": round(b / w, 3),
        "encode_seconds": round(w, 3),
    }


# ------------------------------------------------------------------ seeds index and latency


def build_seeds(work: Path, backend: str, encode_seconds: float, say: Say) -> tuple[Any, dict[str, Any]]:
    """Cold build in a fresh `qa index` process, warm build here; returns (index, numbers)."""
    from dataclasses import replace

    from qa.config import DEFAULT_CORPUS, default_settings
    from qa.index.folder import build_index

    cold_dir, warm_dir = work / "seeds-cold", work / "seeds-warm"
    say("building the seeds index in a fresh process (cold)")
    env = dict(os.environ, QA_BACKEND=backend)
    cold_s, code, err, cold_peak = timed_run(
        qa_process("index", str(DEFAULT_CORPUS), "--index-dir", str(cold_dir), "--force", "--quiet", "--json"), env
    )
    say("building the seeds index in this process (warm)")
    settings = replace(default_settings(), backend=backend)
    # warm = model *and* libraries loaded: bm25s's first import (≈ 0.3 s, numba and scipy)
    # is a once-per-process cost like the model load, not part of building
    import bm25s  # noqa: F401

    started = time.perf_counter()
    index = build_index([DEFAULT_CORPUS], warm_dir, settings)
    warm_s = time.perf_counter() - started
    shutil.rmtree(cold_dir, ignore_errors=True)
    sizes = {p.name: dir_size(p) if p.is_dir() else p.stat().st_size for p in warm_dir.iterdir()}
    return index, {
        "passages": len(index.passages),
        "cold_seconds": round(cold_s, 3) if code == 0 else None,
        "cold_error": None if code == 0 else err,
        "cold_peak_rss_bytes": cold_peak,
        "warm_seconds": round(warm_s, 3),
        "warm_encode_seconds": index.manifest["timings"]["encode_seconds"],
        "warm_vs_pure_encoding": round(warm_s / max(encode_seconds, 1e-9), 3),
        "index_kind": index.manifest.get("index_kind"),
        "disk_bytes": dir_size(warm_dir),
        "disk_parts": sizes,
    }


def measure_latency(index: Any, encoder: Any, questions: Sequence[str], warmup: int = 5) -> dict[str, Any]:
    """search and ask p50/p95 per retriever, one question at a time, and the reader alone."""
    from qa.answers.retrieve import Searcher
    from qa.config import RETRIEVERS
    from qa.engine import Engine

    out: dict[str, Any] = {"questions": len(questions), "search": {}, "ask": {}}

    def timed(call: Callable[[str], Any]) -> dict[str, float | None]:
        for q in questions[:warmup]:
            call(q)
        times = []
        for q in questions[warmup:]:
            started = time.perf_counter()
            call(q)
            times.append(time.perf_counter() - started)
        return percentiles(times)

    for retriever in RETRIEVERS:
        # a fresh Searcher per run: its query-embedding cache must not serve a timed question
        engine = Engine(index=index, searcher=Searcher(index, encoder=encoder))
        out["search"][retriever] = timed(lambda q: engine.search(q, k=5, retriever=retriever))
        engine = Engine(index=index, searcher=Searcher(index, encoder=encoder))
        out["ask"][retriever] = timed(lambda q: engine.ask(q, k=5, retriever=retriever))
    # the reader alone on the passages hybrid search gives: its share of an answer's time
    from qa.answers.answer import reader

    r = reader()
    engine = Engine(index=index, searcher=Searcher(index, encoder=encoder))
    passages = {q: [h.passage.text for h in engine.search(q, k=5)] for q in questions}
    out["reader"] = timed(lambda q: r.read(q, passages[q]))
    ask_p50, read_p50 = out["ask"]["hybrid"]["p50_ms"], out["reader"]["p50_ms"]
    out["reader_share"] = round(read_p50 / ask_p50, 3) if ask_p50 and read_p50 is not None else None
    out["followup"] = measure_followups(index, encoder, questions, warmup)
    fu_p50, plain_p50 = out["followup"]["p50_ms"], out["followup"]["plain"]["p50_ms"]
    out["followup_extra_ms"] = round(fu_p50 - plain_p50, 3) if fu_p50 is not None and plain_p50 is not None else None
    return out


# Follow-ups that point back to whatever was asked before (a pronoun, "that", a bare question
# word): general, so any bench question can be the earlier turn.
FOLLOWUPS = ("When did it happen?", "Where did that happen?", "Who did it?", "Why?", "How many were there?")


def followup_pairs(questions: Sequence[str]) -> list[tuple[str, str]]:
    """(earlier question, follow-up) for each question: the question, then a follow-up on it."""
    return [(q, FOLLOWUPS[i % len(FOLLOWUPS)]) for i, q in enumerate(questions)]


def measure_followups(index: Any, encoder: Any, questions: Sequence[str], warmup: int = 5) -> dict[str, Any]:
    """hybrid ask p50/p95 of a follow-up asked after one earlier turn (qa.conversation; the earlier
    turn untimed), and under `plain` the same question as it was understood asked on its own.

    The two are timed in turn, question by question (their order alternating), so both see the
    same load on a shared machine: the difference of their medians is what following the
    conversation costs (reading the turns, the longer search text), not which questions were
    harder or when the machine was busier. `read_as_followups`: the share taken as follow-ups.
    """
    from qa.answers.retrieve import Searcher
    from qa.conversation import Conversation
    from qa.engine import Engine

    engine = Engine(index=index, searcher=Searcher(index, encoder=encoder))
    times: dict[str, list[float]] = {"followup": [], "plain": []}
    followed = 0
    for n, (earlier, follow) in enumerate(followup_pairs(questions)):
        conversation = Conversation(engine)
        conversation.ask(earlier, k=5)
        standalone = conversation.understand(follow).standalone
        calls = {
            "followup": lambda c=conversation, f=follow: c.ask(f, k=5),
            "plain": lambda q=standalone: engine.ask(q, k=5),
        }
        for name in ("followup", "plain") if n % 2 == 0 else ("plain", "followup"):
            started = time.perf_counter()
            answer = calls[name]()
            seconds = time.perf_counter() - started
            if n >= warmup:
                times[name].append(seconds)
                followed += name == "followup" and answer.standalone_question is not None
    measured = len(times["followup"])
    return {**percentiles(times["followup"]), "plain": percentiles(times["plain"]), "read_as_followups": round(followed / measured, 3) if measured else None}


def measure_cli(index_dir: Path, backend: str, question: str, repeats: int) -> dict[str, Any]:
    """`qa --help` and a cold `qa ask` (fresh process, built index), median of `repeats`."""
    env = dict(os.environ, QA_BACKEND=backend)
    helps = [timed_run(qa_process("--help"), env)[0] for _ in range(max(1, repeats))]
    cmd = "ask"
    runs = [timed_run(qa_process(cmd, question, "--index-dir", str(index_dir), "--json"), env) for _ in range(max(1, repeats))]
    ok = [r for r in runs if r[1] == 0]
    peaks = [r[3] for r in ok if r[3] is not None]
    return {
        "help_seconds": round(float(np.median(helps)), 3),
        "cold_command": cmd,
        "cold_seconds": round(float(np.median([r[0] for r in ok])), 3) if ok else None,
        "cold_min_seconds": round(min(r[0] for r in ok), 3) if ok else None,
        "cold_error": None if ok else runs[-1][2],
        "cold_peak_rss_bytes": max(peaks) if peaks else None,
    }


# ------------------------------------------------------------------ scaling


def synthetic_vectors(n: int, dim: int = 384, seed: int = 0, spread: float = 1.0) -> np.ndarray:
    """`n` L2-normalised vectors drawn around n/200 random topic centres.

    Uniform random vectors in 384-d are all nearly orthogonal — no neighbour is much nearer
    than any other, which no text collection looks like. Clustered vectors (cosine ≈ 0.5
    within a topic, ≈ 0 across) are the closer stand-in for passage embeddings.
    """
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(16, n // 200), dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for a in range(0, n, step):
        b = min(n, a + step)
        out[a:b] = centres[rng.integers(0, len(centres), b - a)]
        out[a:b] += rng.standard_normal((b - a, dim)).astype(np.float32) * spread
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def synthetic_queries(vectors: np.ndarray, n: int, seed: int = 1) -> np.ndarray:
    """Queries near stored vectors (cosine ≈ 0.7), as a question is near its passage."""
    rng = np.random.default_rng(seed)
    q = vectors[rng.integers(0, len(vectors), n)] + rng.standard_normal((n, vectors.shape[1])).astype(np.float32) / np.sqrt(vectors.shape[1])
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return np.ascontiguousarray(q, dtype=np.float32)


def index_bytes(index: Any) -> int:
    """Bytes the FAISS structures hold: the vectors, plus the graph for HNSW."""
    d = int(index.d)
    if hasattr(index, "hnsw"):
        h = index.hnsw
        return int(index.ntotal) * d * 4 + int(h.neighbors.size()) * 4 + int(h.offsets.size()) * 8 + int(h.levels.size()) * 4
    return int(index.ntotal) * d * 4


def _time_queries(index: Any, queries: np.ndarray, k: int) -> dict[str, Any]:
    times = []
    for i in range(len(queries)):
        started = time.perf_counter()
        index.search(queries[i : i + 1], k)
        times.append(time.perf_counter() - started)
    return percentiles(times)


def measure_dense_scale(n: int, queries: int = 200, depth: int = 50, say: Say | None = None) -> dict[str, Any]:
    """Flat vs HNSW at `n` synthetic vectors: build, memory, latency, HNSW recall@10."""
    import gc

    from qa.index import dense

    if say:
        say(f"dense scaling: {n:,} vectors")
    vectors = synthetic_vectors(n)
    qs = synthetic_queries(vectors, queries)
    row: dict[str, Any] = {"passages": n}
    exact_ids = None
    for kind in dense.KINDS:
        gc.collect()
        before = current_rss_bytes()
        started = time.perf_counter()
        index = dense.build(vectors, kind=kind)
        build_s = time.perf_counter() - started
        after = current_rss_bytes()
        dense.set_threads(1)
        index.search(qs[:5], depth)  # warm-up
        _, ids = index.search(qs, 10)
        if kind == dense.FLAT:
            exact_ids = ids
        row[kind] = {
            "build_seconds": round(build_s, 3),
            "index_bytes": index_bytes(index),
            "rss_growth_bytes": (after - before) if before is not None and after is not None else None,
            **_time_queries(index, qs, depth),
            "recall_at_10": round(dense.recall_at(ids, exact_ids, 10), 4) if exact_ids is not None else None,
        }
        if kind == dense.HNSW:
            row[kind]["ef_search"] = int(index.hnsw.efSearch)
            row[kind]["m"] = dense.HNSW_M
        del index
    del vectors
    gc.collect()
    return row


def measure_bm25_scale(n: int, texts: Sequence[str], queries: Sequence[str], say: Say | None = None) -> dict[str, Any]:
    """BM25 over `n` passages made by repeating `texts`: build seconds, memory, query p50/p95."""
    import gc

    from qa.index.lexical import Bm25Index

    if say:
        say(f"BM25 scaling: {n:,} passages")
    corpus = [texts[i % len(texts)] for i in range(n)]
    gc.collect()
    before = current_rss_bytes()
    started = time.perf_counter()
    bm25 = Bm25Index.build(corpus)
    build_s = time.perf_counter() - started
    after = current_rss_bytes()
    depth = 50
    times = []
    for q in queries:
        started = time.perf_counter()
        scores = bm25.scores(q)
        if scores.size:
            d = min(depth, scores.size)
            top = np.argpartition(-scores, d - 1)[:d]
            sorted(top.tolist(), key=lambda i: (-float(scores[i]), i))
        times.append(time.perf_counter() - started)
    held = bm25.nbytes()
    del bm25, corpus
    gc.collect()
    return {
        "passages": n,
        "build_seconds": round(build_s, 3),
        "index_bytes": held,
        "rss_growth_bytes": (after - before) if before is not None and after is not None else None,
        **percentiles(times),
    }


# ------------------------------------------------------------------ PDF and HTML extraction

EXTRACT_PDF_PAGES = 300
EXTRACT_HTML_PAGES = 100


def measure_extraction(pdf_pages: int = EXTRACT_PDF_PAGES, html_pages: int = EXTRACT_HTML_PAGES, say: Say | None = None) -> dict[str, Any]:
    """Pages per second of text extraction alone (no cleaning into passages, no embedding).

    Generated documents (qa.documents.formats.samples): one PDF of `pdf_pages` report pages (header,
    footer, ~40 lines, hyphenated line ends) read as `qa index` reads it (open, text layer,
    running lines, broken words), and `html_pages` distinct news pages with the usual
    furniture through trafilatura. One warm-up document first, so imports are not counted.
    """
    from qa.documents.formats import extract
    from qa.documents.formats.samples import sample_html, sample_pdf

    if say:
        say(f"extraction: a {pdf_pages}-page PDF and {html_pages} HTML pages")
    extract(sample_pdf(2), "warmup.pdf")
    extract(sample_html(-1), "warmup.html")
    pdf = sample_pdf(pdf_pages)
    started = time.perf_counter()
    ex, why = extract(pdf, "bench.pdf")
    pdf_s = time.perf_counter() - started
    pages = [sample_html(i) for i in range(html_pages)]
    started = time.perf_counter()
    read = sum(1 for page in pages if extract(page, "bench.html")[0] is not None)
    html_s = time.perf_counter() - started
    return {
        "pdf_pages": pdf_pages,
        "pdf_bytes": len(pdf),
        "pdf_seconds": round(pdf_s, 3),
        "pdf_pages_per_second": round(pdf_pages / pdf_s, 1) if ex is not None and pdf_s > 0 else None,
        "pdf_error": why,
        "html_pages": html_pages,
        "html_read": read,
        "html_seconds": round(html_s, 3),
        "html_pages_per_second": round(read / html_s, 1) if html_s > 0 else None,
    }


# ------------------------------------------------------------------ the whole run


def run_bench(
    quick: bool = False,
    scale_1m: bool = False,
    backend: str | None = None,
    questions: int = 120,
    gold: Path | None = None,
    work_dir: Path | None = None,
    say: Say | None = None,
    reindex_files: int | None = None,
) -> dict[str, Any]:
    """Every measurement of `qa bench`, as one JSON-ready dict.

    `reindex_files`: size of the generated folder of the re-index benchmark (qa.eval.reindex;
    default 1,000, 100 with `quick`; 0 leaves it out).
    """
    from qa.config import PROJECT_ROOT, default_settings
    from qa.index.encoders import load_encoder
    from qa.index.folder import index_text

    say = say or (lambda _m: None)
    backend = backend or default_settings().backend
    if quick:
        questions = min(questions, 25)
    gold = gold if gold is not None else PROJECT_ROOT / "tests" / "data" / "dev_gold.jsonl"
    own_work = work_dir is None
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="qa-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"machine": machine(), "quick": quick, "backend": backend}
    try:
        say(f"loading the {backend} encoder")
        encoder = load_encoder(backend)
        # encoder throughput on the seeds passages (chunked as an index build would)
        from qa.config import DEFAULT_CORPUS
        from qa.documents.chunk import chunk_documents
        from qa.documents.ingest import load_corpus

        passages = chunk_documents(load_corpus([DEFAULT_CORPUS]).documents, default_settings().chunk)
        texts = [index_text(p) for p in passages]
        say(f"embedding {len(texts)} passages (bare model vs Encoder.encode)")
        result["encoder"] = measure_encoder(encoder, texts, repeats=1 if quick else 3)

        index, result["index"] = build_seeds(work, backend, result["encoder"]["encode_seconds"], say)
        qs = bench_questions(index.passages, questions + 5, gold)
        say(f"latency over {len(qs) - 5} questions per retriever")
        result["latency"] = measure_latency(index, encoder, qs, warmup=5)
        result["peak_rss_bytes"] = peak_rss_bytes()  # before the scaling runs inflate it

        say("qa --help and a cold qa ask in fresh processes")
        result["cli"] = measure_cli(index.path, backend, qs[0], repeats=1 if quick else 3)
        result["extraction"] = measure_extraction(100 if quick else EXTRACT_PDF_PAGES, 30 if quick else EXTRACT_HTML_PAGES, say=say)

        sizes = list(QUICK_SIZES if quick else DEFAULT_SIZES) + ([SIZE_1M] if scale_1m else [])
        result["scale_dense"] = [measure_dense_scale(n, queries=50 if quick else 200, say=say) for n in sizes]
        bm25_sizes = QUICK_BM25_SIZES if quick else BM25_SIZES + ((SIZE_1M,) if scale_1m else ())
        result["scale_bm25"] = [measure_bm25_scale(n, texts, qs[5:55], say=say) for n in bm25_sizes]
        from qa.eval.reindex import QUICK_REINDEX_FILES, REINDEX_FILES, measure_reindex

        n_files = reindex_files if reindex_files is not None else (QUICK_REINDEX_FILES if quick else REINDEX_FILES)
        if n_files:
            result["reindex"] = measure_reindex(work, backend, n_files, say=say)
        result["peak_rss_bytes_total"] = peak_rss_bytes()
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)
    return result


TARGETS = {
    "help_seconds": 0.5,
    "pdf_pages_per_second": 20.0,  # text extraction alone (issue 14)
    "html_pages_per_second": 50.0,
    "cold_ask_seconds": 2.0,
    "ask_p50_ms": 50.0,
    "ask_p95_ms": 150.0,
    "followup_extra_ms": 10.0,  # a follow-up's ask p50 minus its standalone question's, asked alone (issue 34)
    "warm_build_vs_encoding": 1.2,
    "encode_vs_bare": 0.9,
    "recall_at_10": 0.95,
    "dense_1m_p95_ms": 50.0,
    "reindex_one_file_share": 0.05,  # re-index after one changed file / full build
    "watch_latency_margin_seconds": 5.0,  # saved → searchable, beyond the file's own embedding time
}


def target_checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of docs/performance.md with the measured value and whether it is met."""
    rows: list[dict[str, Any]] = []

    def add(name: str, value: float | None, limit: float, higher_is_better: bool = False) -> None:
        ok = None if value is None else (value >= limit if higher_is_better else value <= limit)
        rows.append({"target": name, "value": value, "limit": limit, "met": ok})

    cli = result.get("cli", {})
    add("qa --help seconds", cli.get("help_seconds"), TARGETS["help_seconds"])
    add(f"cold qa {cli.get('cold_command', 'ask')} seconds", cli.get("cold_seconds"), TARGETS["cold_ask_seconds"])
    ask = (result.get("latency", {}).get("ask") or {}).get("hybrid")
    add("ask hybrid p50 ms", ask and ask["p50_ms"], TARGETS["ask_p50_ms"])
    add("ask hybrid p95 ms", ask and ask["p95_ms"], TARGETS["ask_p95_ms"])
    if "followup_extra_ms" in result.get("latency", {}):
        add("follow-up ask p50 − ask p50 ms", result["latency"]["followup_extra_ms"], TARGETS["followup_extra_ms"])
    idx = result.get("index", {})
    add("warm build / pure encoding", idx.get("warm_vs_pure_encoding"), TARGETS["warm_build_vs_encoding"])
    add("Encoder.encode / bare model", result.get("encoder", {}).get("encode_vs_bare"), TARGETS["encode_vs_bare"], True)
    ext = result.get("extraction") or {}
    if ext:
        add("PDF extraction pages/s", ext.get("pdf_pages_per_second"), TARGETS["pdf_pages_per_second"], True)
        add("HTML extraction pages/s", ext.get("html_pages_per_second"), TARGETS["html_pages_per_second"], True)
    for row in result.get("scale_dense", []):
        add(f"HNSW recall@10 at {row['passages']:,}", row["hnsw"]["recall_at_10"], TARGETS["recall_at_10"], True)
        if row["passages"] >= SIZE_1M:
            add("HNSW p95 ms at 1M", row["hnsw"]["p95_ms"], TARGETS["dense_1m_p95_ms"])
    rx = result.get("reindex")
    if rx:
        add(f"re-index 1 of {rx['files']:,} files / full build", rx["one_file_share"], TARGETS["reindex_one_file_share"])
        margin = None if rx["watch_embed_seconds"] is None else round(rx["watch_latency_seconds"] - rx["watch_embed_seconds"], 3)
        add("watch: saved → searchable, minus embedding (s)", margin if rx["watch_searchable"] else None, TARGETS["watch_latency_margin_seconds"])
    return rows
