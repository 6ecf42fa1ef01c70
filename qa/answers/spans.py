"""Map a stretch of a passage back to the source-file lines it came from.

The index stores each passage's line range, not a per-character map, and a passage of a
hard-wrapped file can span a dozen lines; an answer should point at the two lines that hold
its sentence. Cleaning keeps or drops whole lines, normalises whitespace inside them and joins
the lines of a paragraph with one space, so every kept line appears verbatim (after the same
`normalize_line`) inside the passage text, in order. Locating those lines once per passage
gives the exact map; when the file cannot be read (moved, changed) we fall back to the
passage's own line range, which is still true, only wider.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from qa.records import Passage, page_line

Segment = tuple[int, int, int]  # (start, end) in passage.text, 1-based source line
FileLines = tuple[list[str], tuple[int, ...]]  # normalised lines, and the line each page starts at (PDF)


class LineLocator:
    """Finds source lines for offsets in passages of one index (files read once, cached)."""

    def __init__(self, root: str | Path | None, cache_size: int = 256, hashes: dict[str, str] | None = None) -> None:
        self.root = Path(root) if root else None
        # {file: sha256} the index was built from: a file whose bytes differ now is not aligned
        # with (its lines moved); its sources keep the indexed lines and say the file changed
        self.hashes = hashes or {}
        self._changed: set[str] = set()
        self._stamps: dict[str, tuple[int, int] | None] = {}
        self._files: OrderedDict[str, FileLines | None] = OrderedDict()
        # pid -> (segments, page starts of its file): kept together so a page map is never lost
        self._segments: OrderedDict[str, tuple[list[Segment], tuple[int, ...]]] = OrderedDict()
        self._cache_size = cache_size

    def _lines(self, rel: str) -> FileLines | None:
        stamp = self._stamp(rel)
        if rel in self._files and self._stamps.get(rel) == stamp:
            self._files.move_to_end(rel)
            return self._files[rel]
        self._stamps[rel] = stamp
        self._changed.discard(rel)  # judged again from what is read now
        self._segments = OrderedDict((pid, v) for pid, v in self._segments.items() if not pid.startswith(f"{rel}#"))
        lines: FileLines | None = None
        if self.root is not None:
            from qa.documents.ingest import read_source

            path = Path(rel) if Path(rel).is_absolute() else self.root / rel
            if not path.exists() and "\\x" in rel:  # stored as its display form (a name that is not UTF-8)
                from qa.documents.ingest import real_name

                path = Path(real_name(str(path)))
            lines, digest = read_source(path)  # the same lines ingest numbered (PDF/HTML/DOCX: extracted)
            if self.hashes.get(rel) and digest != self.hashes[rel]:
                self._changed.add(rel)
                lines = None
        self._files[rel] = lines
        while len(self._files) > 32:
            self._files.popitem(last=False)
        return lines

    def _stamp(self, rel: str) -> tuple[int, int] | None:
        """(modification time, size) of the file now: a file edited while the engine is open
        (the chat) is read again, not answered from what an earlier question cached."""
        if self.root is None:
            return None
        try:
            st = (Path(rel) if Path(rel).is_absolute() else self.root / rel).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def changed(self, rel: str) -> bool:
        """Has this file changed (or gone) since the index was built? Known once it was looked up."""
        return rel in self._changed

    def _located(self, passage: Passage) -> tuple[list[Segment], tuple[int, ...]]:
        """(start, end, line) for each stretch of passage.text that one source line holds, and
        where its file's pages start (cached per passage)."""
        try:
            found = self._lines(passage.path)  # first: a file edited since drops its passages' cache
        except Exception:  # an unreadable file must never break an answer
            found = None
        if passage.pid in self._segments:
            return self._segments[passage.pid]
        segs: list[Segment] = []
        starts: tuple[int, ...] = ()
        if found is not None:
            lines, starts = found
            first, last = _flat(starts, passage.page, passage.line_start), _flat(starts, passage.page_end, passage.line_end)
            if first is not None and last is not None:
                segs = align(passage.text, lines, first, last)
        self._segments[passage.pid] = (segs, starts)
        while len(self._segments) > self._cache_size:
            self._segments.popitem(last=False)
        return segs, starts

    def place(self, passage: Passage, start: int, end: int) -> tuple[tuple[int, int], tuple[int, int] | None]:
        """(lines, pages) of passage.text[start:end]: lines count from 1 on each page of a PDF,
        pages is (first, last) for a PDF and None for a file without pages."""
        segs, starts = self._located(passage)
        hit = [line for a, b, line in segs if a < end and start < b]
        if not hit:
            pages = None if passage.page is None else (passage.page, passage.page_end or passage.page)
            return (passage.line_start, passage.line_end), pages
        (p0, a), (p1, b) = page_line(starts, min(hit)), page_line(starts, max(hit))
        if p0 is None or p1 is None:
            return (a, b), None
        return (a, b), (p0, p1)


def _flat(starts: tuple[int, ...], page: int | None, line: int) -> int | None:
    """The line counted through all pages for `line` of `page` (None: the file changed shape)."""
    if page is None:
        return None if starts else line
    if not starts or page > len(starts):
        return None
    return starts[page - 1] + line - 1


def align(text: str, lines: list[str], first: int, last: int) -> list[Segment]:
    """Locate lines first..last (1-based, already normalised) inside `text`, in order.

    The first line may be cut at its start (a passage can begin mid-line, at a sentence) and
    the last at its end; lines cleaning dropped (captions, share rows) are simply not found.
    """
    segs: list[Segment] = []
    pos = 0
    for no in range(first, min(last, len(lines)) + 1):
        line = lines[no - 1]
        if not line:
            continue
        at = text.find(line, pos)
        if at >= 0 and not text[pos:at].strip():
            segs.append((at, at + len(line), no))
            pos = at + len(line)
            continue
        if not segs and pos == 0:
            if text in line:  # the whole passage stands inside one line
                return [(0, len(text), no)]
            # the passage begins inside this line: text starts with a suffix of it
            head = _common_suffix_prefix(line, text)
            if head:
                segs.append((0, head, no))
                pos = head
                continue
        rest = text[pos:].lstrip()
        if rest and line.startswith(rest[: max(1, min(len(rest), len(line)))]) and len(rest) < len(line):
            # the passage ends inside this line
            at = len(text) - len(rest)
            segs.append((at, len(text), no))
            pos = len(text)
            continue
        if at >= 0 and no > first:
            # text in between that no line accounts for: trust the match only when it is long
            if len(line) >= 20:
                segs.append((at, at + len(line), no))
                pos = at + len(line)
    return segs


def _common_suffix_prefix(line: str, text: str) -> int:
    """Length of the longest suffix of `line` that `text` starts with (at a word boundary)."""
    for i in range(len(line)):
        if (i == 0 or line[i - 1] == " ") and text.startswith(line[i:]):
            return len(line) - i
    return 0
