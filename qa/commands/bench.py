"""`qa bench`: measure speed and memory on this machine (tables, or JSON with --json)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from qa.commands.common import json_option, notify, print_json, stdout_console


@click.command("bench")
@json_option
@click.option("--quick", is_flag=True, help="Small sizes and few questions: a smoke run in well under a minute.")
@click.option("--scale-1m", "scale_1m", is_flag=True, help="Add 1,000,000 vectors to the scaling curve (minutes; ≈ 3 GiB).")
@click.option(
    "--backend",
    type=click.Choice(["torch", "onnx-int8"]),
    default=None,
    help="Encoder to measure (default: $QA_BACKEND or the configured default).",
)
@click.option("--questions", type=click.IntRange(min=10, max=10_000), default=120, show_default=True, help="Questions per latency run (after 5 warm-up ones).")
@click.option("--gold", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None, help="Take questions from this gold .jsonl first (default: tests/data/dev_gold.jsonl when present).")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Where the throw-away indexes go (default: a temporary directory, removed afterwards).")
@click.option(
    "--reindex-files",
    type=click.IntRange(min=0, max=100_000),
    default=None,
    help="Generated files for the re-index benchmark (full build vs one changed file, watch latency; default 1000, 100 with --quick, 0 skips it).",
)
def command(
    as_json: bool, quick: bool, scale_1m: bool, backend: str | None, questions: int, gold: Path | None, work_dir: Path | None, reindex_files: int | None
) -> None:
    """Measure model load, embedding throughput, index build, search/ask latency, start-up
    time, memory and a flat-vs-HNSW scaling curve on this machine."""
    from qa.eval.speed import run_bench, target_checks

    say = (lambda _m: None) if as_json else (lambda m: notify(m))
    result = run_bench(
        quick=quick, scale_1m=scale_1m, backend=backend, questions=questions, gold=gold, work_dir=work_dir, say=say, reindex_files=reindex_files
    )
    result["targets"] = target_checks(result)
    if as_json:
        print_json(result)
        return
    render(result)


def _mb(n: Any) -> str:
    return "–" if n is None else f"{n / 2**20:,.1f} MiB"


def _num(v: Any, fmt: str = "{:,.2f}") -> str:
    return "n/a" if v is None else fmt.format(v)


def render(r: dict[str, Any]) -> None:
    """The result as Rich tables (values are numbers we made, but escape anyway)."""
    from rich.table import Table
    from rich.text import Text

    out = stdout_console()
    m = r["machine"]
    out.print(Text(f"qa bench — {m['date']} — {m['cpu']}, {m['cores']} cores, {_mb(m['memory_bytes'])} RAM — backend {r['backend']}" + (" (quick)" if r["quick"] else ""), style="bold"))

    t = Table(title="Encoder, index, start-up, memory")
    t.add_column("measure")
    t.add_column("value", justify="right")
    e, i, c = r["encoder"], r["index"], r["cli"]
    rows = [
        ("model load", f"{e['load_seconds']:.2f} s"),
        (f"bare model ({e['passages']} seeds passages, batch {e['batch_size']})", f"{e['bare_passages_per_second']:.1f} passages/s"),
        ("Encoder.encode (same passages)", f"{e['encode_passages_per_second']:.1f} passages/s ({e['encode_vs_bare']:.0%} of bare)"),
        ("seeds index build, cold (fresh qa index process)", _num(i["cold_seconds"], "{:.2f} s") + (f" ({i['cold_error']})" if i.get("cold_error") else "")),
        ("seeds index build, warm (model loaded)", f"{i['warm_seconds']:.2f} s = {i['warm_vs_pure_encoding']:.2f}× pure encoding"),
        ("index size on disk", f"{_mb(i['disk_bytes'])} ({i['index_kind']})"),
        ("qa --help", f"{c['help_seconds']:.3f} s"),
        (f"qa {c['cold_command']} from a cold process", _num(c["cold_seconds"], "{:.2f} s") + (f" ({c['cold_error']})" if c.get("cold_error") else "")),
        (f"peak RSS: bench process (before scaling) / cold qa {c['cold_command']} / cold qa index", f"{_mb(r['peak_rss_bytes'])} / {_mb(c['cold_peak_rss_bytes'])} / {_mb(i.get('cold_peak_rss_bytes'))}"),
    ]
    x = r.get("extraction")
    if x:  # text extraction alone, no embedding
        rows += [
            (f"PDF text extraction ({x['pdf_pages']} generated pages)", _num(x["pdf_pages_per_second"], "{:,.0f} pages/s") + (f" ({x['pdf_error']})" if x.get("pdf_error") else "")),
            (f"HTML main-text extraction ({x['html_pages']} generated pages)", _num(x["html_pages_per_second"], "{:,.0f} pages/s")),
        ]
    for k, v in rows:
        t.add_row(Text(k), Text(v))
    out.print(t)

    lat = r["latency"]
    t = Table(title=f"Latency per question after warm-up ({lat['questions'] - 5} questions, k=5)")
    for col in ("retriever", "search p50", "search p95", "ask p50", "ask p95"):
        t.add_column(col, justify="right" if col != "retriever" else "left")
    for name, s in lat["search"].items():
        a = lat["ask"].get(name)
        t.add_row(name, f"{s['p50_ms']:.1f} ms", f"{s['p95_ms']:.1f} ms", _num(a and a["p50_ms"], "{:.1f} ms"), _num(a and a["p95_ms"], "{:.1f} ms"))
    rd = lat.get("reader")
    if rd:
        t.add_row("reader alone", "", "", f"{rd['p50_ms']:.1f} ms", f"{rd['p95_ms']:.1f} ms")
    fu = lat.get("followup")
    if fu:
        pl = fu["plain"]
        t.add_row("hybrid follow-up (after 1 turn)", "", "", _num(fu["p50_ms"], "{:.1f} ms"), _num(fu["p95_ms"], "{:.1f} ms"))
        t.add_row("  the same, asked standalone", "", "", _num(pl["p50_ms"], "{:.1f} ms"), _num(pl["p95_ms"], "{:.1f} ms"))
    out.print(t)
    if lat.get("followup_extra_ms") is not None:
        out.print(Text(f"Following the conversation adds {lat['followup_extra_ms']:+.1f} ms to the median ask (timed in turn with the standalone questions)."))
    if lat.get("reader_share") is not None:
        out.print(Text(f"The reader is {100 * lat['reader_share']:.0f} % of a hybrid answer's median time."))

    t = Table(title="Dense scaling (synthetic 384-d vectors, 1 thread, depth 50)")
    for col in ("passages", "flat p50/p95", "flat memory", "HNSW build", "HNSW p50/p95", "HNSW memory", "HNSW recall@10"):  # memory: FAISS structures
        t.add_column(col, justify="right")
    for row in r["scale_dense"]:
        f, h = row["flat"], row["hnsw"]
        t.add_row(
            f"{row['passages']:,}",
            f"{f['p50_ms']:.2f} / {f['p95_ms']:.2f} ms",
            _mb(f["index_bytes"]),
            f"{h['build_seconds']:.1f} s",
            f"{h['p50_ms']:.2f} / {h['p95_ms']:.2f} ms",
            _mb(h["index_bytes"]),
            f"{h['recall_at_10']:.3f} (ef {h['ef_search']})",
        )
    out.print(t)

    t = Table(title="BM25 scaling (seeds passages repeated)")
    for col in ("passages", "build", "score matrix", "p50", "p95"):
        t.add_column(col, justify="right")
    for row in r["scale_bm25"]:
        t.add_row(f"{row['passages']:,}", f"{row['build_seconds']:.1f} s", _mb(row["index_bytes"]), f"{row['p50_ms']:.1f} ms", f"{row['p95_ms']:.1f} ms")
    out.print(t)

    rx = r.get("reindex")
    if rx:
        t = Table(title=f"Re-indexing ({rx['files']:,} generated files, {rx['passages']:,} passages)")
        t.add_column("measure")
        t.add_column("value", justify="right")
        t.add_row("full build", f"{rx['full_build_seconds']:.2f} s (embedding {rx['full_encode_seconds']:.2f} s)")
        t.add_row("qa index, nothing changed", f"{rx['up_to_date_seconds']:.3f} s")
        t.add_row("re-index after 1 changed file", f"{rx['one_file_seconds']:.2f} s = {rx['one_file_share']:.1%} of the full build")
        watch = f"{rx['watch_latency_seconds']:.2f} s (embedding {_num(rx['watch_embed_seconds'], '{:.2f}')} s)" if rx["watch_searchable"] else f"not searchable ({rx['watch_error']})"
        t.add_row(f"watch: saved → searchable (debounce {rx['watch_debounce_ms']} ms)", watch)
        out.print(t)

    t = Table(title="Targets")
    for col in ("target", "measured", "limit", "met"):
        t.add_column(col)
    for row in r["targets"]:
        met = {True: Text("yes", style="green"), False: Text("no", style="red"), None: Text("n/a", style="dim")}[row["met"]]
        t.add_row(Text(row["target"]), Text(_num(row["value"], "{:,.3f}")), Text(f"{row['limit']:g}"), met)
    out.print(t)
