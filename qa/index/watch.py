"""Keep an index current while its documents change: file events → debounce → incremental re-index.

Shared by `qa index --watch` (one status line per update) and `qa chat --watch` (a background
thread that swaps the new index in). Events are only a trigger: what decides whether and
what to rebuild is qa.index.refresh.refresh_index comparing the corpus fingerprint, so an
editor's temporary files, a `touch`, or events lost while a build ran can never leave the
index wrong — after every build the corpus is checked again until the index matches it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.config import ChunkSettings, IndexSettings, recorded_follow_links
from qa.index.incremental import Changes
from qa.index.refresh import Refresh, refresh_index

DEBOUNCE_MS = 1600  # the longest a burst of events is gathered before a re-index starts
STEP_MS = 300  # a burst ends after this long without a new event (an editor's save is several)
MAX_ROUNDS = 5  # re-checks after a build when files changed during it, before waiting for events again
_EDITOR_TEMP = ("~", ".swp", ".swx", ".swo", ".tmp", ".part", ".crdownload")


@dataclass(frozen=True)
class Update:
    """One re-index after a burst of events (or why it failed)."""

    refresh: Refresh | None
    error: str | None = None
    at: float = 0.0  # time.time() when it finished

    @property
    def changes(self) -> Changes:
        return self.refresh.changes if self.refresh else Changes()

    def line(self) -> str:
        """ "documents changed: 1 added, 2 removed · index updated (3 passages embedded, 120 reused, 0.4 s)"."""
        if self.error is not None:
            return f"documents changed · the index was not updated: {self.error}"
        c = self.changes
        parts = [f"{n} {what}" for n, what in ((c.added, "added"), (c.changed, "changed"), (c.removed, "removed")) if n]
        seconds = self.refresh.seconds if self.refresh else 0.0
        return (
            f"documents changed: {', '.join(parts) or 'passages changed'} · index updated "
            f"({c.embedded:,} passage{'' if c.embedded == 1 else 's'} embedded, {c.reused:,} reused, {seconds:.1f} s)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "error" if self.error else "updated",
            "error": self.error,
            "changes": self.changes.to_json(),
            "passages": (self.refresh.manifest.get("counts", {}).get("passages") if self.refresh else None),
            "seconds": round(self.refresh.seconds, 3) if self.refresh else None,
        }


def settings_of(manifest: dict[str, Any]) -> IndexSettings:
    """The settings an index was built with: a watcher keeps them rather than today's defaults."""
    return IndexSettings(
        model=str(manifest["model"]), backend=str(manifest["backend"]), chunk=ChunkSettings(**manifest["chunk"]), follow_links=recorded_follow_links(manifest)
    )


class EventFilter:
    """Which file events may concern the corpus: not the index itself, its temp/lock/old
    siblings, hidden files and folders (never read), or editors' temporary files.

    Events name real paths, so the roots are resolved when the filter is made (a new filter is
    made whenever the watch is set up again, e.g. after a root was replaced by a link), and the
    places followed symlinks lead to (`linked`, resolved: a folder moved into `.shelf/` and
    linked back) are accepted as roots of their own.
    """

    def __init__(self, paths: Sequence[Path], index_dir: Path, linked: Sequence[Path] = ()) -> None:
        from qa.index.folder import real_target

        targets = [*paths, *linked]
        self.dirs = [Path(p).resolve() for p in targets if Path(p).is_dir()]
        self.files = {Path(p).resolve() for p in targets if not Path(p).is_dir()}
        self.index_dir = real_target(index_dir)

    def __call__(self, change: Any, path: str) -> bool:
        return self.accepts(Path(path))

    def accepts(self, path: Path) -> bool:
        path = Path(path)
        if self._is_index(path):
            return False
        if path in self.files:
            return True
        return any(_read_under(path, root) for root in self.dirs)

    def _is_index(self, path: Path) -> bool:
        index = self.index_dir
        if path == index or index in path.parents:
            return True
        # .<name>.lock, .<name>.tmp-qa<pid>/…, .<name>.old-qa<pid>/… beside the index
        sibling = next((p for p in (path, *path.parents) if p.parent == index.parent), None)
        return sibling is not None and sibling.name.startswith(f".{index.name}.")


def _read_under(path: Path, root: Path) -> bool:
    """Is `path` below `root` and a name ingest would read (not hidden, not an editor's temp file)?"""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return False
    name = rel.name
    return not (any(part.startswith(".") for part in rel.parts) or name.endswith(_EDITOR_TEMP) or (name.startswith("#") and name.endswith("#")))


@dataclass
class Watcher:
    """Watches `paths` and keeps the index at `index_dir` built from them current."""

    paths: list[Path]
    index_dir: Path
    settings: IndexSettings
    debounce_ms: int = DEBOUNCE_MS
    step_ms: int = STEP_MS
    progress: Any = None  # BuildProgress for the re-index builds
    notify: Callable[[str], None] | None = None

    @classmethod
    def for_index(cls, index: Any, **options: Any) -> Watcher:
        """A watcher for a loaded index: its recorded corpus paths, its folder, its settings."""
        paths = [Path(p) for p in index.manifest["corpus"].get("paths", [])]
        return cls(paths=paths, index_dir=Path(index.path), settings=settings_of(index.manifest), **options)

    def watch_roots(self) -> list[Path]:
        """What to hand the OS watcher: folders as they are; a file through its folder (an editor
        that saves by renaming a new file over the old one would end a watch on the file itself)."""
        roots = {Path(p).resolve() if Path(p).is_dir() else Path(p).resolve().parent for p in self.paths}
        return sorted(roots)

    def follows_links(self) -> bool:
        """Links leading outside the corpus are followed: as set, else as the index records."""
        if self.settings.follow_links is not None:
            return self.settings.follow_links
        from qa.errors import QAError
        from qa.index.folder import read_manifest

        try:
            return recorded_follow_links(read_manifest(self.index_dir))
        except (QAError, OSError):
            return False

    def links(self) -> list[Path]:
        """Where the symlinks the corpus follows now lead (qa.documents.ingest.link_targets); [] when it cannot be walked."""
        from qa.documents.ingest import link_targets
        from qa.errors import QAError

        try:
            return link_targets(self.paths, self.follows_links())
        except (QAError, OSError):
            return []

    def out_of_date(self) -> str | None:
        """Why the index does not match the corpus now (None when it does): what stopping says."""
        from qa.errors import QAError
        from qa.index.folder import read_manifest, staleness

        try:
            return staleness(read_manifest(self.index_dir), self.paths, self.settings)
        except (QAError, OSError) as exc:
            return str(exc)

    def update(self) -> Update | None:
        """Re-index if the corpus changed; None when it had not (nothing to report)."""
        from qa.errors import QAError

        try:
            result = refresh_index(self.paths, self.index_dir, self.settings, progress=self.progress, notify=self.notify)
        except QAError as exc:
            return Update(None, error=str(exc), at=time.time())
        except OSError as exc:
            return Update(None, error=exc.strerror or str(exc), at=time.time())
        if result.status == "up to date":
            return None
        return Update(result, at=time.time())

    def settle(self, on_update: Callable[[Update], None]) -> None:
        """Update until the index matches the corpus (files may change while a build runs)."""
        for _ in range(MAX_ROUNDS):
            update = self.update()
            if update is None:
                return
            on_update(update)
            if update.error is not None:
                return

    def run(self, on_update: Callable[[Update], None], stop: threading.Event | None = None) -> None:
        """Block, calling `on_update` after each re-index, until `stop` is set (or KeyboardInterrupt).

        The corpus is checked once at the start too, so changes made before the watch began
        (or while the caller was loading) are not missed.
        """
        import watchfiles

        self.settle(on_update)
        stopped = stop or threading.Event()
        missed = False  # the folders were away: what happened meanwhile is looked at first
        while not stopped.is_set():
            roots = self.watch_roots()
            watched = _identities(roots)
            if None in watched:  # a watched folder is gone: wait for it to come back
                stopped.wait(1.0)
                continue
            if missed:
                self.settle(on_update)
                missed = False
            links = self.links()
            # made anew each time: events name real paths, and a root replaced by a link resolves elsewhere now
            event_filter = EventFilter(self.paths, self.index_dir, links)
            stamps = _stamps(links)
            for changes in watchfiles.watch(
                *_outermost(roots + [t for t in links if t.is_dir()]),  # a linked file: by its stat, not its whole folder
                watch_filter=event_filter,
                debounce=self.debounce_ms,
                step=self.step_ms,
                stop_event=stopped,
                rust_timeout=1000,  # wake up to look at `stop` (and the folders) even when nothing happens
                yield_on_timeout=True,
                raise_interrupt=True,
            ):
                if stopped.is_set():
                    return
                if changes or _stamps(links) != stamps:  # a linked file's folder is not watched: its stat is
                    self.settle(on_update)
                    stamps = _stamps(links)
                    if self.links() != links:  # a folder became a link (or a link changed): watch where they lead now
                        break
                if _identities(roots) != watched:
                    # the folder was deleted (and maybe made again): the OS watch went with the
                    # old one, so watch again once it is back — it would otherwise see nothing more
                    missed = True
                    break
            else:
                return


def _outermost(folders: list[Path]) -> list[Path]:
    """The folders not inside another of them (the OS watch is recursive), each once, sorted."""
    unique = sorted(set(folders))
    return [f for f in unique if not any(f != other and f.is_relative_to(other) for other in unique)]


def _stamps(paths: list[Path]) -> tuple[tuple[int, int, int] | None, ...]:
    """(mtime, size, inode) of each path now (None when gone): a cheap look for a change."""
    out = []
    for path in paths:
        try:
            st = path.stat()
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            out.append(None)
    return tuple(out)


def _identities(roots: list[Path]) -> tuple[tuple[int, int] | None, ...]:
    """(device, inode) of each watched folder now; None for one that is gone."""
    out = []
    for root in roots:
        try:
            st = root.stat()
            out.append((st.st_dev, st.st_ino))
        except OSError:
            out.append(None)
    return tuple(out)


@dataclass
class Running:
    """A watcher running in its thread: `stop()` ends it."""

    event: threading.Event
    thread: threading.Thread

    def stop(self, wait: float = 2.0) -> None:
        """Stop, and wait up to `wait` s for the thread: an idle watcher wakes within a second.

        Joining matters at exit: a thread still inside native code when the interpreter shuts
        down can abort the process ("terminate called …"). A re-index in progress is not
        waited for beyond `wait` (it is atomic: cut short, it leaves the previous index).
        """
        self.event.set()
        if self.thread is not threading.current_thread():
            self.thread.join(timeout=wait)


def start_in_thread(watcher: Watcher, on_update: Callable[[Update], None], on_error: Callable[[BaseException], None]) -> Running:
    """Run `watcher` in a daemon thread until the returned handle's stop().

    A daemon thread: quitting the app must not wait for a whole re-index (builds are atomic
    and locked, so one killed at exit leaves at most a temp folder the next build sweeps away).
    """
    stop = threading.Event()

    def target() -> None:
        try:
            watcher.run(on_update, stop)
        except Exception as exc:  # noqa: BLE001 - reported to the caller, never a crash of its thread
            if not stop.is_set():
                on_error(exc)

    thread = threading.Thread(target=target, name="qa-watch", daemon=True)
    thread.start()
    return Running(stop, thread)
