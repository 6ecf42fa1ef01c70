"""`qa eval`: retrieval and answer metrics on a gold set, SQuAD v1.1 dev or a BEIR dataset."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from qa.config import RETRIEVERS
from qa.commands.common import corpus_options, json_option, notify, open_engine, plural, print_json, stdout_console

RETRIEVER_CHOICES = (*RETRIEVERS, "all")


@click.command("eval")
@click.argument("gold", required=False, type=click.Path(path_type=Path))
@click.option(
    "--retriever",
    "-r",
    type=click.Choice(RETRIEVER_CHOICES),
    default=None,
    help="Which retriever to evaluate; 'all' runs each on the same questions, side by side. "
    "[default: hybrid for a gold file, all for --squad/--beir]",
)
@click.option("-k", "k", type=click.IntRange(min=1, max=1000), default=10, show_default=True, help="Passages retrieved per question (metrics need at least 10; fewer are padded up to 10).")
@corpus_options
@json_option
@click.option("--run", "run_file", type=click.Path(dir_okay=False, path_type=Path), help="Write a TREC run file (one per retriever with 'all': FILE.<retriever>).")
@click.option("--qrels", "qrels_file", type=click.Path(dir_okay=False, path_type=Path), help="Write the matching TREC qrels file.")
@click.option("--no-answers", is_flag=True, help="Retrieval metrics only (skip the answer layer).")
@click.option(
    "--conversations",
    is_flag=True,
    help="Also measure GOLD's conversations (rows with 'conversation'): each follow-up asked in its conversation, "
    "alone as typed and written out in full; and GOLD's other questions asked as one long conversation vs one by one.",
)
@click.option("--failures", "show_failures", type=click.IntRange(min=0), default=20, show_default=True, help="How many failures to list in the tables.")
@click.option("--squad", is_flag=True, help="Evaluate on SQuAD dev's test articles (their paragraphs as the corpus): open retrieval and reading with the gold paragraph.")
@click.option(
    "--squad-version",
    type=click.Choice(["1.1", "2.0"]),
    default="1.1",
    show_default=True,
    help="--squad: 2.0 adds questions the paragraphs do not answer (abstention is scored).",
)
@click.option("--sample", type=click.IntRange(min=0), default=300, show_default=True, help="--squad/--squadshifts: number of questions (0: all of the split or set).")
@click.option(
    "--split",
    type=click.Choice(["test", "validation", "train", "all"]),
    default="test",
    show_default=True,
    help="--squad: which articles (the reader was trained on 'train' and calibrated on 'validation': only 'test' measures it).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="--squad/--squadshifts: sampling seed.")
@click.option(
    "--squadshifts",
    type=click.Choice(["new_wiki", "amazon_reviews"]),
    default=None,
    help="Evaluate on a SQuADShifts set (SQuAD's protocol on newer Wikipedia articles or Amazon reviews): open retrieval and reading with the gold paragraph. new_wiki is for reporting; amazon_reviews was used to calibrate.",
)
@click.option(
    "--leave-out-article",
    is_flag=True,
    help="--squad/--squadshifts: also ask every answerable question with its own article (product) left out of the passages, where 'not found' is the right answer.",
)
@click.option(
    "--followups",
    type=click.Choice(["train", "test"]),
    default=None,
    help="Evaluate follow-up questions made from SQuAD (two questions of one paragraph, the second written with a pronoun; "
    "see docs/evaluation.md): 'train' SQuAD train articles (where the method was tuned), 'test' SQuAD dev's test articles (report). "
    "Each follow-up is asked in conversation, alone, and written out in full.",
)
@click.option("--beir", "beir_dir", type=click.Path(path_type=Path), help="Evaluate on a BEIR-layout dataset folder (corpus.jsonl, queries.jsonl, qrels/test.tsv).")
@click.option("--bench-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder holding the SQuAD files (default: $QA_BENCH_DIR, else ../shared/bench).")
def command(
    gold: Path | None,
    retriever: str | None,
    k: int,
    corpus: tuple[Path, ...],
    index_dir: Path | None,
    as_json: bool,
    run_file: Path | None,
    qrels_file: Path | None,
    no_answers: bool,
    conversations: bool,
    show_failures: int,
    squad: bool,
    squad_version: str,
    sample: int,
    split: str,
    seed: int,
    squadshifts: str | None,
    leave_out_article: bool,
    followups: str | None,
    beir_dir: Path | None,
    bench_dir: Path | None,
) -> None:
    """Evaluate retrieval and answers on GOLD, a JSONL gold question set (see README).

    \b
    Retrieval: Recall@1/3/5/10, MRR@10, nDCG@10 over the answerable questions.
    Answers: SQuAD exact match and token F1, hit@1, abstention precision/recall/F1.
    With --squad, --squadshifts NAME or --beir DIR a public benchmark is run instead (indexes
    cached in index/); --leave-out-article adds the questions asked without their article.
    """
    from qa.errors import UsageError

    modes = sum([gold is not None, squad, squadshifts is not None, beir_dir is not None, followups is not None])
    if modes != 1:
        raise UsageError("give exactly one of GOLD, --squad, --squadshifts NAME, --followups SET or --beir DIR")
    if followups is not None:
        if corpus:
            raise UsageError("--corpus does not apply to --followups (the benchmark is the corpus)")
        _followups(followups, bench_dir, sample, seed, index_dir, as_json)
        return
    if leave_out_article and not (squad or squadshifts):
        raise UsageError("--leave-out-article applies to --squad and --squadshifts only")
    if conversations and gold is None:
        raise UsageError("--conversations applies to a GOLD file only")
    if conversations and no_answers:
        raise UsageError("--conversations measures answers: it cannot be combined with --no-answers")
    public = squad or squadshifts is not None or beir_dir is not None
    several = (retriever in (None, "all")) if public else retriever == "all"
    inputs = [("gold set", gold)] if gold is not None else []
    inputs += [("benchmark folder", beir_dir)] if beir_dir is not None else []
    check_outputs(run_file, qrels_file, inputs + [("corpus", c) for c in corpus], several)
    if public:
        if corpus:
            raise UsageError("--corpus does not apply to --squad/--squadshifts/--beir (the benchmark is the corpus)")
        names = list(RETRIEVERS) if retriever in (None, "all") else [retriever]
        _benchmark(squad, beir_dir, bench_dir, names, sample, split, seed, index_dir, as_json, run_file, qrels_file, no_answers, squad_version, squadshifts, leave_out_article)
        return

    from qa.eval.evaluate import evaluate, gold_qrels, run_path, write_qrels, write_trec_run
    from qa.eval.gold import load_gold

    assert gold is not None
    gold_set = load_gold(gold)
    if conversations and not gold_set.turns:
        raise UsageError(f"{gold} holds no conversations (rows with a 'conversation' id) for --conversations to measure")
    names = list(RETRIEVERS) if retriever == "all" else [retriever or "hybrid"]
    engine = open_engine(corpus, index_dir, quiet=as_json)
    with eval_progress(as_json) as progress:
        result = evaluate(engine, gold_set, names, k=k, answers=not no_answers, progress=progress)
        if conversations:
            from qa.eval.gold_conversations import evaluate_conversations

            for name in names:
                result["retrievers"][name]["conversations"] = evaluate_conversations(engine, gold_set, name, progress)
    if gold_set.turns and not conversations:
        result["notes"].append(
            f"note: {gold} also holds {plural(len(gold_set.conversations()), 'conversation')} ({len(gold_set.turns)} turns), "
            "not in these numbers: --conversations measures them"
        )
    for name in names:
        rankings = result["retrievers"][name].pop("_rankings")
        if run_file:
            write_trec_run(run_path(run_file, name, len(names) > 1), rankings, tag=f"qa-{name}")
    if qrels_file:
        write_qrels(qrels_file, gold_qrels(gold_set))
    for note in result["notes"]:
        notify(note)
    if as_json:
        print_json(result)
        return
    render_gold(result, names, show_failures)


def check_outputs(run_file: Path | None, qrels_file: Path | None, inputs: list[tuple[str, Path]], several: bool) -> None:
    """Refuse, before any work, a --run or --qrels that would replace a file (the gold set, a
    corpus document, an earlier run) or each other."""
    from qa.eval.evaluate import run_path
    from qa.outputs import check_distinct, check_new_output

    outs = [("--run", run_path(run_file, name, several)) for name in (RETRIEVERS if several else ("",))] if run_file else []
    outs += [("--qrels", qrels_file)] if qrels_file else []
    for option, path in outs:
        check_new_output(path, option, inputs=inputs)
    check_distinct(outs)


# ------------------------------------------------------------------ benchmarks


def _benchmark(squad, beir_dir, bench_dir, names, sample, split, seed, index_dir, as_json, run_file, qrels_file, no_answers, squad_version="1.1", squadshifts=None, leave_out_article=False) -> None:  # type: ignore[no-untyped-def]
    from qa.eval import public as B
    from qa.eval.evaluate import run_path, write_qrels, write_trec_run
    from qa.commands.common import build_progress

    if squad:
        bench = B.load_squad(bench_dir, split=split, sample=sample, seed=seed, version=squad_version)
        recall_ks: tuple[int, ...] = (1, 5, 20)
    elif squadshifts:
        bench = B.load_squadshifts(bench_dir, squadshifts, sample=sample, seed=seed)
        recall_ks = (1, 5, 20)
    else:
        bench = B.load_beir(Path(beir_dir))
        recall_ks = (100,)
    with build_progress(as_json) as progress:
        engine = B.open_bench_engine(bench, index_dir, progress=progress, notify=None if as_json else notify)
    with eval_progress(as_json) as progress:
        result = B.run_benchmark(
            engine,
            bench,
            names,
            recall_ks,
            answers=(squad or bool(squadshifts)) and not no_answers,
            progress=progress,
            leave_out_article=leave_out_article,
            write_run=(lambda name, runs: write_trec_run(run_path(run_file, name, len(names) > 1), runs, tag=f"qa-{name}"))
            if run_file
            else None,
        )
    if qrels_file:
        write_qrels(qrels_file, bench.qrels)
    if squad:
        result["sample"] = {"split": split, "questions": sample, "seed": seed, "version": squad_version}
    elif squadshifts:
        result["sample"] = {"set": squadshifts, "use": B.SQUADSHIFTS_USE[squadshifts], "questions": sample, "seed": seed}
    if as_json:
        print_json(result)
        return
    render_bench(result, names, recall_ks)


def _followups(which: str, bench_dir: Path | None, sample: int, seed: int, index_dir: Path | None, as_json: bool) -> None:
    from qa.commands.common import build_progress
    from qa.eval import public as B
    from qa.eval.followups import load_followups, run_followups

    bench, items = load_followups(bench_dir, which, sample=sample, seed=seed)
    with build_progress(as_json) as progress:
        engine = B.open_bench_engine(bench, index_dir, progress=progress, notify=None if as_json else notify)
    with eval_progress(as_json) as progress:
        result = run_followups(engine, items, progress=progress)
    result["sample"] = {"set": which, "questions": sample, "seed": seed}
    if as_json:
        print_json(result)
        return
    render_followups(result)


# ------------------------------------------------------------------ display


@contextmanager
def eval_progress(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    """One progress bar per stage (retriever × retrieval/answers) on stderr."""
    if quiet or not sys.stderr.isatty():
        yield lambda stage, done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from qa.commands.common import stderr_console

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=stderr_console(), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _f(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def render_gold(result: dict[str, Any], names: list[str], show_failures: int) -> None:
    from rich.table import Table
    from rich.text import Text

    out = stdout_console()
    first = result["retrievers"][names[0]]
    out.print(
        Text(
            f"{result['gold']}: {plural(first['questions'], 'question')} ({first['answerable']} answerable, "
            f"{first['unanswerable']} unanswerable) · index {result['index_dir']}"
        )
    )
    table = Table(title="Retrieval (answerable questions)", title_justify="left")
    table.add_column("metric")
    for name in names:
        table.add_column(name, justify="right")
    for metric in first["retrieval"]:
        table.add_row(metric, *[_f(result["retrievers"][n]["retrieval"].get(metric)) for n in names])
    out.print(table)
    if "answers" in first:
        table = Table(title="Answers", title_justify="left")
        table.add_column("metric")
        for name in names:
            table.add_column(name, justify="right")
        rows = [("exact match", "exact_match"), ("token F1", "f1"), ("hit@1", "hit@1")]
        for label, key in rows:
            table.add_row(label, *[_f(result["retrievers"][n]["answers"][key]) for n in names])
        for key in ("precision", "recall", "f1"):
            table.add_row(f"abstention {key}", *[_f(result["retrievers"][n]["answers"]["abstention"][key]) for n in names])
        out.print(table)
    out.print(by_type_table(result, names))
    if "conversations" in first:
        render_conversations(result, names)
    for name in names:
        r = result["retrievers"][name]
        fails = r["failures"]
        if fails:
            table = Table(title=f"Failures ({name}): {len(fails)}" + (f", first {show_failures}" if len(fails) > show_failures else ""), title_justify="left", show_lines=True)
            for c in ("id", "type", "question", "expected", "got", "evidence rank", "why"):
                table.add_column(c, overflow="fold")
            for f in fails[:show_failures]:
                expected = " | ".join(f["expected"]) or "(abstain)"
                got = "(abstained)" if f["abstained"] else (f["got"] if f["got"] is not None else "–")
                rank = "–" if f["evidence_rank"] is None else str(f["evidence_rank"])
                table.add_row(*(Text(str(x)) for x in (f["id"], f["type"], f["question"], expected, got, rank, f["reason"])))
            out.print(table)


def render_conversations(result: dict[str, Any], names: list[str]) -> None:
    """The follow-up section: each way of asking the follow-ups, then the standalone-unchanged share."""
    from rich.table import Table
    from rich.text import Text

    from qa.eval.gold_conversations import WAYS

    out = stdout_console()
    labels = {"conversation": "in conversation", "alone": "alone, as typed", "full": "alone, written out"}
    for name in names:
        conv = result["retrievers"][name]["conversations"]
        fu = conv["followups"]
        suffix = f" ({name})" if len(names) > 1 else ""
        table = Table(
            title=f"Follow-up questions{suffix}: {plural(fu['followups'], 'follow-up')} in {plural(fu['conversations'], 'conversation')} "
            f"({fu['answerable']} answerable, {fu['followups'] - fu['answerable']} not in the sources)",
            title_justify="left",
        )
        table.add_column("metric")
        for way in WAYS:
            table.add_column(labels[way], justify="right")
        for key, label in (("evidence@1", "evidence@1"), ("hit@1", "answer hit@1"), ("exact_match", "exact match"), ("f1", "token F1"), ("abstained_unanswerable", "abstained, not in sources")):
            table.add_row(label, *[_f(fu["ways"][w][key]) for w in WAYS])
        out.print(table)
        su = conv["standalone_unchanged"]
        out.print(Text(
            f"Standalone unchanged{suffix}: the {su['questions']} other questions asked as one conversation vs one by one: "
            f"{su['identical']}/{su['questions']} answers identical ({su['share_identical']:.3f}); "
            f"{su['read_as_followups']} read as follow-ups"
        ))
        for c in su["changed"]:
            out.print(Text(f"  {c['id']}: {c['question']} → alone {c['alone']!r}, in conversation {c['in_conversation']!r}"))


def by_type_table(result: dict[str, Any], names: list[str]):  # type: ignore[no-untyped-def]
    """One row per question type (and retriever, when several): fits an 80-column terminal."""
    from rich.table import Table
    from rich.text import Text

    first = result["retrievers"][names[0]]["by_type"]
    cols = ["recall@5", "mrr@10", "hit@1", "f1", "abstained"]
    present = [c for c in cols if any(c in e for r in result["retrievers"].values() for e in r["by_type"].values())]
    title = "By type" + (f" ({names[0]})" if len(names) == 1 else "")
    table = Table(title=title, title_justify="left")
    table.add_column("type")
    if len(names) > 1:
        table.add_column("retriever")
    table.add_column("n", justify="right")
    for c in present:
        table.add_column(c, justify="right")
    for kind, entry in first.items():
        for i, n in enumerate(names):
            cells = [_f(result["retrievers"][n]["by_type"][kind].get(c)) for c in present]
            lead = [Text(kind if i == 0 else ""), *([Text(n)] if len(names) > 1 else [])]
            table.add_row(*lead, str(entry["questions"]) if i == 0 else "", *cells, end_section=i == len(names) - 1)
    return table


def render_bench(result: dict[str, Any], names: list[str], recall_ks: tuple[int, ...]) -> None:
    from rich.table import Table
    from rich.text import Text

    out = stdout_console()
    out.print(Text(f"{result['dataset']}: {result['queries']} queries over {result['documents']} documents ({result['passages']} passages) · index {result['index_dir']}"))
    table = Table(title="Retrieval (documents ranked by their best passage)", title_justify="left")
    table.add_column("metric")
    for name in names:
        table.add_column(name, justify="right")
    metrics = [f"recall@{k}" for k in recall_ks] + ["mrr@10", "ndcg@10"]
    for m in metrics:
        table.add_row(m, *[_f(result["retrievers"][n].get(m)) for n in names])
    out.print(table)
    for key, label in (
        ("answers", "Open retrieval (hybrid, top 5 passages)"),
        ("reading", "Reading comprehension (gold paragraph)"),
        ("not_in_sources", "Own article left out (right answer: not found)"),
    ):
        res = result.get(key)
        if not res:
            continue
        line = f"{label}: EM {res['exact_match']:.1f} · F1 {res['f1']:.1f}"
        if "hit@1" in res:
            line += f" · hit@1 {res['hit@1']:.3f}"
        line += f" · abstained {res['abstained']}/{res['questions']}"
        out.print(Text(line))
        if key == "not_in_sources":
            out.print(Text(f"  said 'not found' for {res['abstained']} of {res['questions']} questions whose article was left out"))
        elif "has_answer" in res:
            h, n, a = res["has_answer"], res["no_answer"], res["abstention"]
            out.print(Text(
                f"  answerable ({h['questions']}): EM {h['exact_match']:.1f} · F1 {h['f1']:.1f}   "
                f"unanswerable ({n['questions']}): abstention precision {a['precision']:.3f} · recall {a['recall']:.3f} · F1 {a['f1']:.3f}"
            ))
    for key, label in (("answers", "open retrieval"), ("not_in_sources", "own article left out")):
        if result.get(key, {}).get("reliability"):
            out.print(reliability_table(result[key]["reliability"], f"Reliability, {label} (best answer's confidence → share right)"))


def reliability_table(rows: list[dict[str, Any]], title: str):  # type: ignore[no-untyped-def]
    """Confidence bin → how many best answers fell in it and how many were right."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for c in ("confidence", "answers", "right", "share right"):
        table.add_column(c, justify="right")
    for r in rows:
        table.add_row(r["bin"], str(r["answers"]), str(r["right"]), _f(r["share_right"]))
    return table


def render_followups(result: dict[str, Any]) -> None:
    from rich.table import Table

    out = stdout_console()
    kinds = result["kinds"]
    out.print(
        f"follow-ups ({result['sample']['set']}): {plural(result['questions'], 'question')} "
        f"(referent: q1's answer {kinds['answer']}, a name of both questions {kinds['name']})"
    )
    table = Table(box=None, pad_edge=False)
    for col in ("asked", "passage hit@1", "best-answer F1", "answered right", "answered"):
        table.add_column(col, justify="left" if col == "asked" else "right")
    labels = {"conversation": "follow-up, in conversation", "alone": "follow-up, alone", "full": "written in full", "full_after_first": "in full, after q1"}
    for mode, label in labels.items():
        r = result[mode]
        table.add_row(label, _f(r["passage_hit@1"]), f"{r['best_answer_f1']:.1f}", _f(r["answered_right"]), _f(r["answered"]))
    out.print(table)
    out.print(
        f"taken as follow-ups: {result['taken_as_followup']:.3f} · pronoun filled with its referent: {result['resolved_to_mention']:.3f} · "
        f"full questions taken as follow-ups: {result['full_taken_as_followup']:.3f} · full questions' answers unchanged after q1: {result['full_unchanged']:.3f}"
    )
