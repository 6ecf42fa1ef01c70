"""`qa index`: build or refresh an index, with progress and a summary."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from qa.commands.common import build_progress, follow_links_option, notify, print_json, stdout_console, store_options
from qa.config import INDEX_DIR_HELP, IndexSettings

LOCAL_RAY = "(local)"  # what --ray alone stands for: $QA_RAY_ADDRESS, else a Ray started on this machine


@click.command("index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@store_options
@follow_links_option
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=INDEX_DIR_HELP.replace("Index directory", "Where to write the index", 1),
)
@click.option("--force", is_flag=True, help="Full rebuild: embed every passage again, even when the index is up to date.")
@click.option(
    "--backend",
    type=click.Choice(["torch", "onnx-int8"]),
    default=None,
    help=f"Encoder implementation of all-MiniLM-L6-v2 (default: $QA_BACKEND, else {IndexSettings.backend}; torch when the int8 package is missing).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--verbose", "-v", is_flag=True, help="List each file that lost lines as web-page boilerplate, and how many.")
@click.option(
    "--watch",
    is_flag=True,
    help="After indexing, keep watching PATHS and re-index (incrementally) when files are added, "
    "changed or removed; one line per update (a JSON line with --json). Ctrl+C stops.",
)
@click.option(
    "--ray",
    "ray_address",
    is_flag=False,
    flag_value=LOCAL_RAY,
    default=None,
    metavar="[ADDRESS]",
    help="Embed on Ray workers (pip install 'qa[scale]'): --ray alone starts a local Ray on this machine "
    "($QA_RAY_ADDRESS if set); --ray ray://HOST:10001, HOST:6379 or auto joins a running cluster (qa installed "
    "on every node). Reading, chunking and writing stay here, so the index is the one a normal build writes; "
    "vectors finished before a failure are kept beside the index and reused by the next --ray run.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="With --ray: how many encoder workers (default: one per CPU of the cluster, or per $QA_RAY_THREADS CPUs "
    "when each worker's encoder uses that many threads).",
)
def command(
    paths: tuple[Path, ...],
    index_dir: Path | None,
    force: bool,
    backend: str | None,
    as_json: bool,
    quiet: bool,
    verbose: bool,
    watch: bool,
    ray_address: str | None,
    workers: int | None,
) -> None:
    """Build or refresh the index of PATHS (files or folders of .txt/.md/.pdf/.html/.docx;
    default: seeds/). PDF, HTML and Word files are read for their text (see README).

    A refresh is incremental: files are re-read and re-cleaned, and only passages whose
    text is new are embedded (the others keep their stored vectors); the summary counts
    files added, changed, removed and unchanged. --force rebuilds everything. The index is
    written to a temporary directory and renamed into place, so an interrupted build never
    leaves a broken index behind. An up-to-date index is left as it is.
    """
    from dataclasses import replace

    from qa.config import default_index_dir, default_settings
    from qa.config import resolve_paths

    from qa.index.vectors import selected

    spec = selected()
    paths, use_ray, ray_address = _split_ray_value(paths, ray_address, workers, watch)
    corpus = resolve_paths(list(paths) or _recorded_corpus(index_dir, spec))
    target = index_dir or default_index_dir(corpus)
    settings = default_settings()
    if backend:
        settings = replace(settings, backend=backend)
    from qa.index.refresh import refresh_index

    if spec.kind == "qdrant" and watch:
        from qa.errors import UsageError

        raise UsageError("--watch works with the folder store only (for now); leave out --store qdrant / --url")
    encoder = None
    with ray_prints_to_stderr(use_ray):
        try:
            with build_progress(quiet or as_json) as progress:
                if spec.kind == "qdrant":
                    from qa.index.vectors.qdrant_index import local_home, refresh, target_for

                    where = target_for(spec, corpus, index_dir)
                    encoder = _ray_encoder(ray_address, workers, settings, local_home(where)) if use_ray else None
                    result = refresh(corpus, where, settings, force=force, progress=progress, notify=notify, encoder=encoder)
                else:
                    from qa.index.folder import real_target

                    encoder = _ray_encoder(ray_address, workers, settings, real_target(target)) if use_ray else None
                    result = refresh_index(corpus, target, settings, force=force, progress=progress, notify=notify, encoder=encoder)
        finally:
            if encoder is not None:
                encoder.close()  # Ray stopped while its prints still go to stderr
    summary = summary_of(result)
    if encoder is not None and encoder.stats:
        summary["ray"] = {"where": encoder.address or "local", **encoder.stats}
    if as_json:
        print_json(summary)
    else:
        print_summary(summary, verbose)
    if watch:
        watch_and_report(corpus, target, settings, as_json)


@contextlib.contextmanager
def ray_prints_to_stderr(active: bool) -> Iterator[None]:
    """While Ray runs in this process, anything printed to stdout goes to stderr instead.

    Ray's driver prints the raylet's error reports ("(raylet) A worker died or was killed …")
    to sys.stdout from a thread of its own, whatever log_to_driver says: a worker killed
    mid-build, or Ctrl+C, put that coloured line in front of `--json` output. qa itself
    prints nothing to stdout before the summary, which comes after Ray is shut down.
    """
    if not active:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


def _split_ray_value(
    paths: tuple[Path, ...], ray_address: str | None, workers: int | None, watch: bool
) -> tuple[tuple[Path, ...], bool, str | None]:
    """(paths, use Ray?, address or None for a local Ray).

    `qa index --ray ~/notes` hands the path to --ray as its value: it is put back among the paths.
    """
    from qa.errors import UsageError

    if ray_address is None:
        if workers is not None:
            raise UsageError("--workers needs --ray")
        return paths, False, None
    if watch:
        raise UsageError(
            "--ray and --watch do not go together: --watch re-embeds a few passages per change, less work than starting Ray; "
            "build with --ray, then watch without it"
        )
    from qa.index.distributed import check_address, is_address, ray_available

    ray_available()
    env = os.environ.get("QA_RAY_ADDRESS") or None
    if ray_address == LOCAL_RAY:
        return paths, True, env and check_address(env)
    if not is_address(ray_address) and Path(ray_address).exists():
        return (Path(ray_address), *paths), True, env and check_address(env)
    return paths, True, check_address(ray_address)


def _ray_encoder(ray_address: str | None, workers: int | None, settings, home: Path):  # type: ignore[no-untyped-def]
    """The RayEncoder for `--ray`; its partial vectors are kept beside `home`."""
    from qa.index.distributed import RayEncoder, partial_dir_for

    threads = _positive_env("QA_RAY_THREADS", 1)
    batch = _positive_env("QA_RAY_BATCH", 0) or None  # None: up to 64 rows, fewer for a small job
    return RayEncoder(
        settings.model, settings.backend, address=ray_address, workers=workers, threads=threads, batch_size=batch,
        partial=partial_dir_for(home), notify=notify, exit_on_loss=True,
    )


def _positive_env(name: str, default: int) -> int:
    from qa.errors import UsageError

    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise UsageError(f"${name} must be a whole number ≥ 1, not {value!r}")
    return int(value)


def watch_and_report(corpus: list[Path], target: Path, settings, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """`--watch`: one line per re-index until Ctrl+C, which ends cleanly (exit 0, index intact:
    a build cut short is atomic and leaves the previous index in place)."""
    import json
    import time

    from qa.index.watch import Watcher
    from qa.safe_text import escape_controls, shown_path

    out = stdout_console()
    notify(f"watching {', '.join(shown_path(p) for p in corpus)} for changes (Ctrl+C to stop)")

    def report(update) -> None:  # type: ignore[no-untyped-def]
        if as_json:
            click.echo(json.dumps(update.to_json(), ensure_ascii=False), nl=True)
            return
        from rich.text import Text

        stamp = time.strftime("%H:%M:%S", time.localtime(update.at))
        out.print(Text(f"{stamp} {escape_controls(update.line())}", style="red" if update.error else ""), soft_wrap=True)

    watcher = Watcher(paths=list(corpus), index_dir=target, settings=settings)
    try:
        watcher.run(report)
    except KeyboardInterrupt:
        notify(stopped_line(watcher, corpus, target))


def stopped_line(watcher, corpus: list[Path], target: Path) -> str:  # type: ignore[no-untyped-def]
    """What Ctrl+C says: "up to date" only when the corpus matches the index now (an edit still
    inside the debounce, or one the watch could not see, is said to be pending, with the fix)."""
    import shlex

    reason = watcher.out_of_date()
    if reason is None:
        return "stopped watching; the index is up to date"
    command = f"qa index {' '.join(shlex.quote(str(p)) for p in corpus)} --index-dir {shlex.quote(str(target))}"
    return f"stopped watching; the index is out of date ({reason}): update it with: {command}"


def summary_of(result) -> dict:  # type: ignore[no-untyped-def]
    """The `qa index --json` object for a refresh (qa.index.refresh.Refresh)."""
    manifest = result.manifest
    summary = {"index_dir": str(result.index_dir), "status": result.status, **manifest.get("counts", {})}
    if result.status == "built":
        summary.update(
            reason=result.reason,
            seconds=round(result.seconds, 2),
            passages_per_second=manifest["timings"]["passages_per_second"],
            skipped_files=manifest["corpus"]["skipped"],
        )
    summary["dropped_lines"] = manifest.get("corpus", {}).get("dropped_lines", {})  # {file: lines dropped as boilerplate}
    summary["changes"] = result.changes.to_json()
    return summary


def print_summary(summary: dict, verbose: bool = False) -> None:  # type: ignore[type-arg]
    """The human summary of `qa index`: one line of counts, one of changes, then skipped files
    (and, with `verbose`, the lines each file lost as web-page boilerplate)."""
    from rich.text import Text

    from qa.safe_text import shown_path

    out = stdout_console()
    target = shown_path(summary["index_dir"])
    if summary["status"] == "up to date":
        out.print(Text(f"Index {target} is up to date: {_n(summary['documents'], 'document')}, {_n(summary['passages'], 'passage')} (use --force to rebuild)."), soft_wrap=True)
        if verbose:
            for line in dropped_lines(summary.get("dropped_lines", {})):
                out.print(Text(line), soft_wrap=True)
        return
    from qa.index.incremental import Changes

    changes = Changes.from_json(summary.get("changes")) or Changes()
    if changes.incremental:
        how = f"{_n(changes.embedded, 'passage')} embedded, {changes.reused:,} reused"
    else:
        how = f"{summary['passages_per_second']:.1f} passages/s embedding"
    out.print(
        Text(
            f"Indexed {_n(summary['files'], 'file')} → {_n(summary['documents'], 'document')}, {_n(summary['passages'], 'passage')} "
            f"in {summary['seconds']:.1f} s ({how}) → {target}"
        ),
        soft_wrap=True,  # summary lines stay one line each, whatever the terminal width
    )
    if changes.incremental:
        out.print(Text(f"Files: {changes.files_line()}."), soft_wrap=True)
    ray = summary.get("ray")
    if ray and ray.get("sent"):
        resumed = f"; {ray['resumed']:,} vectors from an interrupted run reused" if ray.get("resumed") else ""
        out.print(Text(f"Embedded on Ray ({ray['where']}): {_n(ray['workers'], 'worker')}{resumed}."), soft_wrap=True)
    if verbose:
        for line in dropped_lines(summary.get("dropped_lines", {})):
            out.print(Text(line), soft_wrap=True)
    for line in skip_lines(summary["skipped_files"]):
        out.print(Text(line, style="yellow"), soft_wrap=True)
    if summary["skipped_files"]:
        out.print(Text(f"{_n(len(summary['skipped_files']), 'file')} skipped.", style="yellow"), soft_wrap=True)


def _recorded_corpus(index_dir: Path | None, spec) -> list[Path] | None:  # type: ignore[no-untyped-def]
    """For `qa index --index-dir I` alone: the corpus I was built from (None: the bundled seeds/).

    Refreshing an index must never swap its corpus for seeds/ because no path was typed;
    when the recorded corpus is gone, the user is told to name it.
    """
    import shlex

    from qa.errors import IndexProblem, UsageError
    from qa.index.folder import recorded_paths
    from qa.index.folder import read_manifest

    if spec.kind == "qdrant":
        from qa.index.vectors.qdrant_index import recorded_corpus

        recorded = recorded_corpus(spec, index_dir) or []
    elif index_dir is None:
        return None
    else:
        try:
            recorded = recorded_paths(read_manifest(index_dir))
        except IndexProblem:
            return None  # not an index (yet): built from seeds/, if the folder may be replaced
    missing = [p for p in recorded if not p.exists()]
    if missing:
        raise UsageError(
            f"the corpus of the index at {index_dir} is gone ({shlex.quote(str(missing[0]))} is missing); "
            f"name it: qa index NEW_PLACE --index-dir {shlex.quote(str(index_dir))}"
        )
    return recorded or None


GROUP_OVER = 5  # more files than this skipped for one reason are summed up in one line


def dropped_lines(dropped: dict[str, int]) -> list[str]:
    """`--verbose`: one line per file that lost lines to cleaning, then the total."""
    from qa.safe_text import printable

    if not dropped:
        return ["No line dropped as web-page boilerplate."]
    lines = [f"  {printable(path)}: {_n(n, 'line')} dropped as web-page boilerplate" for path, n in sorted(dropped.items())]
    lines.append(f"{_n(sum(dropped.values()), 'line')} dropped as web-page boilerplate in {_n(len(dropped), 'file')}.")
    return lines


def skip_lines(skipped: list[dict[str, str]]) -> list[str]:
    """One line per skipped file, but one line per reason when many share it.

    A folder of 3,000 PDFs must not bury the few unreadable notes the user needs to see.
    """
    from qa.safe_text import escape_controls, shown_path

    by_reason: dict[str, list[str]] = {}
    for s in skipped:
        by_reason.setdefault(s["reason"], []).append(s["path"])
    lines: list[str] = []
    for reason, paths in by_reason.items():
        if len(paths) > GROUP_OVER:
            shown = ", ".join(shown_path(p) for p in paths[:3])
            lines.append(f"  skipped {_n(len(paths), 'file')}: {escape_controls(reason)} (e.g. {shown})")
        else:
            lines.extend(f"  skipped {shown_path(p)}: {escape_controls(reason)}" for p in paths)
    return lines


def _n(count: int, noun: str) -> str:
    from qa.safe_text import plural

    return plural(count, noun)
