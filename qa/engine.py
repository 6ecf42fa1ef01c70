"""The one object the CLI and the TUI talk to: open (or build) an index, search, ask.

It owns the policy for indexes that are missing or stale: the bundled corpus is rebuilt
automatically with a message; any other corpus is rebuilt only when the caller asks for it
(e.g. `qa chat PATH` building on first run), otherwise the user is told the command to run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.config import (
    DEFAULT_CORPUS,
    IndexSettings,
    default_index_dir,
    default_settings,
    is_default_corpus,
    resolve_paths,
)
from qa.errors import IndexProblem, QAError
from qa.index.folder import (
    BuildProgress,
    Index,
    build_index,
    check_buildable,
    load_index,
    read_manifest,
    rebuild_hint,
    recorded_paths,
    staleness,
)
from qa.records import Hit

if TYPE_CHECKING:
    from qa.answers.answer import Answer
    from qa.index.vectors import StoreSpec
    from qa.index.vectors.base import Store

Notify = Callable[[str], None]


@dataclass
class Engine:
    index: Index | Store  # a folder index, or another store (qa.index.vectors.base.Store: same attributes)
    searcher: Any  # qa.answers.retrieve.Searcher

    @classmethod
    def open(
        cls,
        paths: Sequence[str | Path] | None = None,
        index_dir: str | Path | None = None,
        settings: IndexSettings | None = None,
        build_missing: bool = False,
        progress: BuildProgress | None = None,
        notify: Notify | None = None,
        fusion: str = "rrf",
        store: StoreSpec | None = None,
    ) -> Engine:
        """`store` None: the store this process selected (qa.index.vectors.selected: --store, QA_STORE; faiss by default)."""
        from qa.index.vectors import selected

        spec = store or selected()
        if spec.kind == "qdrant":
            from qa.index.vectors.qdrant_index import open_store

            qstore = open_store(paths, spec, index_dir, settings or default_settings(), build_missing, progress, notify)
            return cls.for_index(qstore, fusion=fusion)
        index = open_index(paths, index_dir, settings, build_missing, progress, notify)
        return cls.for_index(index, fusion=fusion)

    @classmethod
    def for_index(cls, index: Index | Store, fusion: str = "rrf") -> Engine:
        """An engine over an index already loaded or just built (a watcher's re-index swaps one in)."""
        from qa.answers.retrieve import Searcher

        return cls(index=index, searcher=Searcher(index, fusion=fusion))

    def search(self, question: str, k: int = 5, retriever: str = "hybrid") -> list[Hit]:
        return self.searcher.search(question, k=k, retriever=retriever)

    def search_many(self, questions: Sequence[str], k: int = 5, retriever: str = "hybrid") -> list[list[Hit]]:
        return self.searcher.search_many(questions, k=k, retriever=retriever)

    @functools.cached_property
    def locator(self) -> Any:
        """Maps passage offsets to source-file lines (files read once, cached with the engine)."""
        from qa.answers.spans import LineLocator

        from qa.index.incremental import recorded_hashes

        return LineLocator((self.index.manifest.get("corpus") or {}).get("root"), hashes=recorded_hashes(self.index.manifest))

    def warm_up(self) -> None:
        """Load the query encoder and the reader now rather than on the first question."""
        self.searcher.embed_queries(["warm up"])
        from qa.answers.answer import reader

        reader()

    def ask(self, question: str, **options: Any) -> Answer:
        return self.ask_many([question], **options)[0]

    def ask_many(self, questions: Sequence[str], k: int = 5, retriever: str = "hybrid", **options: Any) -> list[Answer]:
        from qa.answers.answer import answer_questions

        return answer_questions(self, list(questions), k=k, retriever=retriever, **options)


def open_index(
    paths: Sequence[str | Path] | None = None,
    index_dir: str | Path | None = None,
    settings: IndexSettings | None = None,
    build_missing: bool = False,
    progress: BuildProgress | None = None,
    notify: Notify | None = None,
) -> Index:
    """Load the index for `paths`, building or rebuilding it where policy allows."""
    settings = settings or default_settings()
    explicit_dir = index_dir is not None
    if paths is None and explicit_dir:
        # an index named by directory alone: check it against the paths it was built from
        manifest = read_manifest(Path(index_dir))  # type: ignore[arg-type]
        recorded = recorded_paths(manifest)
        missing = [p for p in recorded if not p.exists()]
        if not recorded:
            raise IndexProblem(f"the index at {index_dir} records no corpus paths; {rebuild_hint(Path(index_dir), manifest)}")
        if missing:
            return _open_without_corpus(Path(index_dir), missing, notify)  # type: ignore[arg-type]
        paths = recorded
    corpus_paths = resolve_paths(paths)
    target = Path(index_dir) if explicit_dir else default_index_dir(corpus_paths)
    auto = is_default_corpus(corpus_paths) or build_missing
    say = notify or (lambda _msg: None)

    reason: str | None
    try:
        manifest = read_manifest(target)
        reason = staleness(manifest, corpus_paths, settings)
        if reason is None and not explicit_dir and is_default_corpus(corpus_paths) and manifest.get("backend") != settings.backend:
            # the bundled corpus in its default place follows the default encoder (cheap to rebuild); any other
            # index keeps the encoder it was built with (queries use the index's backend)
            reason = f"it was built with the {manifest.get('backend')} encoder, the default is now {settings.backend}"
    except IndexProblem as exc:
        if not auto and not target.exists():
            # nothing built yet for this corpus: give the exact command, with its real paths
            import shlex

            where = f" --index-dir {shlex.quote(str(target))}" if explicit_dir else ""
            build = f"qa index {' '.join(shlex.quote(str(p)) for p in corpus_paths)}{where}"
            if not _readable_files(corpus_paths):  # the command would only say "no text to index"
                raise IndexProblem(
                    f"no index for {', '.join(map(str, corpus_paths))} yet, and it holds no file qa reads "
                    f"(.txt, .md, .pdf, .html, .docx): add some, then: {build}"
                ) from None
            raise IndexProblem(f"no index for {', '.join(map(str, corpus_paths))} yet: build it with: {build}") from None
        if not auto:
            raise
        manifest, reason = None, None if not target.exists() else str(exc)
        if reason is None:
            check_buildable(target, corpus_paths)  # refuse before announcing a build that must not happen
            say(f"building the index for {', '.join(map(str, corpus_paths))} in {target} (first run)")
    if reason is not None:
        if not auto:
            raise IndexProblem(f"the index at {target} is out of date: {reason}; {_fix_hint(target, manifest, corpus_paths, explicit_dir)}")
        check_buildable(target, corpus_paths)  # refuse before announcing a rebuild that must not happen
        say(f"rebuilding the index in {target}: {reason}")
    if manifest is None or reason is not None:
        return build_index(corpus_paths, target, settings, progress=progress, notify=notify)
    try:
        return load_index(target)
    except IndexProblem as exc:
        if not auto:
            raise
        check_buildable(target, corpus_paths)
        say(f"rebuilding the index in {target}: {getattr(exc, 'what', exc)}")  # the fix is what we are doing
        return build_index(corpus_paths, target, settings, progress=progress, notify=notify)


def _readable_files(paths: Sequence[Path]) -> bool:
    """Does the corpus hold any file qa would read? (Asked only when it has no index yet.)"""
    from qa.documents.ingest import discover

    try:
        return bool(discover(list(paths))[1])
    except QAError:
        return True  # a path that is not there: building says so in its own words


def _open_without_corpus(index_dir: Path, missing: list[Path], notify: Notify | None) -> Index:
    """An intact index whose corpus moved or vanished: queried as built, with a warning; never rebuilt.

    Rebuilding would need a corpus, and the only one at hand (the bundled seeds/) is not the
    one this index holds: replacing the user's index with it would lose it silently.
    """
    import shlex

    where = shlex.quote(str(missing[0]))
    fix = f"if it moved, rebuild with: qa index NEW_PLACE --index-dir {shlex.quote(str(index_dir))}"
    try:
        index = load_index(index_dir)
    except IndexProblem as exc:
        raise IndexProblem(f"the corpus of the index at {index_dir} is gone ({where} is missing) and the index is damaged ({exc}); {fix}") from None
    if notify:
        notify(f"warning: the corpus of the index at {index_dir} is gone ({where} is missing); answering from the index as built; {fix}")
    return index


def _fix_hint(target: Path, manifest: dict[str, Any] | None, corpus_paths: list[Path], explicit_dir: bool) -> str:
    """The command that really fixes a stale index: the corpus asked for, not the one recorded.

    Following a hint that rebuilds the recorded corpus would only repeat the error when the
    user asked for another corpus; so name the paths they gave (and the index as built).
    """
    import shlex

    recorded = sorted(str(p) for p in recorded_paths(manifest)) if manifest else []
    asked = [str(p.resolve()) for p in corpus_paths]
    if manifest is None or not recorded or recorded == sorted(asked):
        return rebuild_hint(target, manifest)
    where = f" --index-dir {shlex.quote(str(target))}" if explicit_dir else ""
    return (
        f"it holds {' '.join(map(shlex.quote, recorded))}; index {' '.join(map(shlex.quote, asked))} with: "
        f"qa index {' '.join(map(shlex.quote, asked))}{where}"
        + (" (or leave out --corpus to query it as built)" if explicit_dir else "")
    )
