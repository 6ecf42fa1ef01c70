"""Find, read and decode the files of a corpus, and hand their text to `clean`.

People point the tool at their own folders, so nothing found there may crash it: binary
files, odd encodings, unreadable files, symlink loops, a file or folder met again under
another name and huge files are skipped or decoded with a one-line reason each, collected in
`Corpus.skipped` / `Corpus.warnings` for the summary. A symlink is followed only while it stays
inside the corpus (ripgrep's rule): `notes/key.txt -> ~/.ssh/id_rsa` must not be indexed and
quoted because it sits in the folder; `follow_links=True` (`--follow-links`) opts in.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from qa.documents.clean import clean_file, repeated_lines, split_lines
from qa.documents.formats import SUFFIXES as FORMAT_SUFFIXES
from qa.documents.formats import Extracted, extract, is_extracted, to_documents
from qa.errors import UsageError
from qa.records import Corpus, Document, Skipped
from qa.safe_text import shown_path

# Bumped whenever cleaning rules change what documents come out, so old indexes are stale.
INGEST_VERSION = "11"  # 3: PDF, HTML, DOCX read; 4: a file read once, junk text skipped; 5: HTML lines are the file's; 6: short wrapped files joined; 7: DOCX tracked insertions and content controls, PDF page-top lines with numbers, HTML deep nesting; 8: dates from metadata or datelines only, table cells under a header row; 9: a heading joins the passage it heads, no passage of fragments alone, boilerplate rules only on web pages; 10: Markdown headings are sections; 11: HTML table rows under a header row
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
READ_SUFFIXES = TEXT_SUFFIXES + FORMAT_SUFFIXES  # plain text, and what qa/documents/formats reads
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x7fELF", b"\x1f\x8b", b"BZh", b"7z\xbc\xaf")


def max_file_bytes() -> int:
    """Files above this size are skipped: embedding them would take hours on a laptop CPU."""
    try:
        return int(float(os.environ.get("QA_MAX_FILE_MB", "20")) * 1024 * 1024)
    except ValueError:
        return 20 * 1024 * 1024


Identity = tuple[int, int]  # (st_dev, st_ino): the same file or folder, whatever it is called
_Skip = tuple[Path, str, Path | None]  # (what, why, the path it repeats): named once the root is known
OUTSIDE = "link leads outside the corpus (--follow-links to read it)"


def _identity(path: Path) -> Identity | None:
    """(device, inode) of what `path` names after following symlinks; None if it cannot be had."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


class _Walk:
    """One pass over the corpus folders that reads each folder (by device and inode) once.

    Real folders are walked first and symlinked folders only afterwards, so a folder reached
    both ways is read under its real name (`real/`, not `alias/`) whatever the names sort as.
    Hidden entries and files of other types are not read, but each is reported as skipped
    (with why), so a user whose .rst notes are missing from the answers learns the reason.
    """

    def __init__(self, inside: Sequence[Path] = (), follow_outside: bool = True) -> None:
        self.inside = [Path(os.path.realpath(p)) for p in inside]  # the corpus roots, symlinks resolved
        self.follow_outside = follow_outside
        self.folders: dict[Identity, Path] = {}  # every folder read, under the name it is read as
        self.files: list[tuple[Path, bool]] = []  # (file, reached through a symlink)
        self.skipped: list[_Skip] = []
        self._links: list[Path] = []  # symlinked folders, followed once every real folder is known
        self.link_targets: set[Path] = set()  # where the links followed lead (resolved): a watcher watches there

    def root(self, folder: Path) -> bool:
        """Walk a corpus root; False (nothing read) when it is a folder already read."""
        key = _identity(folder)
        if key is not None and key in self.folders:
            return False
        if key is not None:
            self.folders[key] = folder
        self._tree(folder, via_link=False)
        return True

    def follow_links(self) -> None:
        """Walk the symlinked folders not read under another name (links found inside are added)."""
        done = 0
        while done < len(self._links):
            link = self._links[done]
            done += 1
            why, same = self._link_skip(link)
            if why is not None:
                self.skipped.append((link, why, same))
                continue
            key = _identity(link)
            if key is not None:
                self.folders[key] = link
            self.link_targets.add(Path(os.path.realpath(link)))
            self._tree(link, via_link=True)

    def _link_skip(self, link: Path) -> tuple[str | None, Path | None]:
        """(why a symlinked folder is not walked, the folder it repeats), or (None, None) to walk it."""
        key = _identity(link)
        if key is None:
            return "cannot read folder: the symlink cannot be followed", None
        if not self.stays_inside(link):
            return OUTSIDE, None
        if _is_inside(link.parent, link):
            return "symlink loop: it points to a folder it is inside", None
        if key in self.folders:
            return "same folder as", self.folders[key]
        return None, None

    def _tree(self, top: Path, via_link: bool) -> None:
        def onerror(err: OSError) -> None:
            self.skipped.append((Path(err.filename or top), f"cannot read folder: {err.strerror or err}", None))

        for dirpath, dirnames, filenames in os.walk(top, onerror=onerror):  # symlinked folders are not entered here
            here = Path(dirpath)
            self.skipped.extend((here / d, "hidden folder", None) for d in sorted(dirnames) if d.startswith("."))
            dirnames[:] = [d for d in sorted(dirnames) if not d.startswith(".") and self._enter(here / d)]
            for name in sorted(filenames):
                path = here / name
                why = _not_read_because(name)
                if why is None and path.is_symlink() and not self.stays_inside(path):
                    why = OUTSIDE
                if why is None:
                    self.files.append((path, via_link or path.is_symlink()))
                    if path.is_symlink():
                        self.link_targets.add(Path(os.path.realpath(path)))
                else:
                    self.skipped.append((path, why, None))

    def stays_inside(self, link: Path) -> bool:
        """Does `link`, every symlink on the way resolved, name something inside a corpus root?"""
        if self.follow_outside:
            return True
        target = Path(os.path.realpath(link))
        return any(target.is_relative_to(root) for root in self.inside)

    def _enter(self, folder: Path) -> bool:
        """Should os.walk go into this subfolder now? Symlinks wait for follow_links."""
        if folder.is_symlink():
            self._links.append(folder)
            return False
        key = _identity(folder)
        if key is None:
            return True  # os.walk reports why it cannot be read
        if key in self.folders:  # a bind mount, or a folder already read through a symlink
            self.skipped.append((folder, "same folder as", self.folders[key]))
            return False
        self.folders[key] = folder
        return True


def _is_inside(folder: Path, target: Path) -> bool:
    """Is `folder`, symlinks resolved, `target` or somewhere below it? (A link there is a loop.)"""
    return Path(os.path.realpath(folder)).is_relative_to(os.path.realpath(target))


def real_name(shown: str) -> str:
    """The file name display_name(name) came from: \\xNN escapes turned back into the bytes,
    \\uNNNN into the character (see qa.safe_text.escape_controls).

    Used to reopen a file (for line numbers) whose stored name is the display form.
    """
    import re

    def unescape(m: re.Match[bytes]) -> bytes:
        if m.group(1):
            return bytes([int(m.group(1), 16)])
        return chr(int(m.group(2), 16)).encode("utf-8", "surrogatepass")

    data = re.sub(rb"\\x([0-9a-f]{2})|\\u([0-9a-f]{4})", unescape, shown.encode("utf-8", "surrogateescape"))
    return os.fsdecode(data)


def _not_read_because(name: str) -> str | None:
    """Why a file of this name is not read (hidden, another type), or None to read it."""
    if name.startswith("."):
        return "hidden file"
    if not name.lower().endswith(READ_SUFFIXES):
        suffix = Path(name).suffix.lower()
        return f"not a supported type ({display_name(suffix)})" if suffix else "not a supported type (no extension)"
    return None


def display_name(name: str) -> str:
    """`name` as stored in the index and shown: safe to print, JSON-encode and tokenize.

    File names are bytes on Linux; Python keeps the undecodable ones as lone surrogates
    (surrogateescape), which crash UTF-8 encoders and tokenizers downstream: they become \\xNN.
    Control characters (`evil\\x1b]0;pwned\\x07.txt`) are escaped the same way, so no
    command, chat widget or export can send them to a terminal (qa.safe_text.shown_path).
    """
    return shown_path(name)


def discover(paths: Sequence[Path], follow_links: bool = False) -> tuple[Path, list[Path], list[tuple[Path, str]]]:
    """(root, files, skipped): every file to read, sorted, and the root their names are relative to.

    Each folder and each file is read once, however many names it has (the same root given
    twice, a symlink to a file of the corpus, a hard link): the same text indexed twice would
    fill the top answers with copies of one passage. A symlink found inside is followed only
    when it leads to a file or folder under one of `paths` (or `follow_links`); a path given
    by the user is read wherever it leads, as it was named on purpose.
    """
    walk, roots = _walked(paths, follow_links)
    root = _common_root(roots)
    files, repeats = _one_per_file(walk.files, root)
    skipped = [(p, why if same is None else f"{why} {_shown(same, root)}") for p, why, same in walk.skipped]
    return root, files, skipped + repeats


def link_targets(paths: Sequence[Path], follow_links: bool = False) -> list[Path]:
    """Where the symlinks the corpus walk follows lead (resolved folders and files), sorted.

    Edits there change the corpus, though they happen under another name: a watcher must
    look there as well as at the roots (qa.index.watch).
    """
    walk, _ = _walked(paths, follow_links)
    return sorted(walk.link_targets)


def _walked(paths: Sequence[Path], follow_links: bool) -> tuple[_Walk, list[Path]]:
    """The walk over `paths` (see discover) and the roots it read, in order."""
    for p in paths:
        if not p.exists() and not p.is_symlink():
            raise UsageError(f"no such file or folder: {p}")
    walk = _Walk(inside=list(paths), follow_outside=follow_links)
    roots: list[Path] = []
    for p in _unique_roots([_plain(p) for p in paths]):
        if p.is_dir():
            if walk.root(p):
                roots.append(p)
        else:  # a file, or a FIFO, device or broken link that read_bytes names the reason for
            walk.files.append((p, p.is_symlink()))
            roots.append(p)
    walk.follow_links()
    return walk, roots


def _plain(path: Path) -> Path:
    """`path` made absolute and without `.` or `..`, naming the same file or folder.

    `c4/../c4` is the folder `c4`: it must be merged with `c4` and its files cited as
    `doc.html`, not `../c4/doc.html`. Dropping `..` by text alone is wrong after a symlink
    (`link/..` is the parent of the link's target), so then the resolved path is used.
    """
    absolute = path.absolute()
    lexical = Path(os.path.normpath(absolute))
    if lexical == absolute or os.path.realpath(lexical) == os.path.realpath(absolute):
        return lexical
    return Path(os.path.realpath(absolute))


def _unique_roots(roots: list[Path]) -> list[Path]:
    """Each root once, in an order that does not depend on the order they were given in.

    A folder named twice (`c1 c1`, `c1 link-to-c1`) is walked once, under a name without
    symlinks if it has one. Files named twice by different names are left to _one_per_file,
    which says which copy is skipped.
    """
    unique: list[Path] = []
    seen: set[Identity] = set()
    for p in sorted(set(roots), key=lambda r: (os.path.realpath(r) != str(r), str(r))):
        key = _identity(p) if p.is_dir() else None
        if key is None or key not in seen:
            unique.append(p)
        if key is not None:
            seen.add(key)
    return unique


def _common_root(roots: list[Path]) -> Path:
    """The folder every file name is relative to: the root folder, or the folder the roots share."""
    folders = [r if r.is_dir() else r.parent for r in roots]
    return folders[0] if len(folders) == 1 else Path(os.path.commonpath(folders))


def _one_per_file(found: list[tuple[Path, bool]], root: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(files sorted by name, skipped copies): each file (by device and inode) once.

    The name kept is the real one (not reached through a symlink), else the first in name
    order, so the same corpus always gives the same index; each other name is skipped with
    the name it repeats. A file that cannot be stat'ed or is not a regular file is kept:
    read_bytes says why it is not read.
    """
    through_link: dict[Path, bool] = {}
    for path, via_link in found:  # the very same path found twice (overlapping roots) is one file
        through_link[path] = through_link.get(path, True) and via_link
    first: dict[Identity, Path] = {}
    files: list[Path] = []
    repeats: list[tuple[Path, str]] = []
    for path in sorted(through_link, key=lambda p: (through_link[p], _relative(p, root))):
        key = _identity(path) if path.is_file() else None  # a FIFO or device: read_bytes says what it is
        if key is not None and key in first:
            repeats.append((path, f"same file as {_shown(first[key], root)}"))
            continue
        if key is not None:
            first[key] = path
        files.append(path)
    files.sort(key=lambda f: _relative(f, root))
    repeats.sort(key=lambda r: _relative(r[0], root))
    return files, repeats


def _relative(path: Path, root: Path) -> str:
    try:
        return path.absolute().relative_to(root).as_posix()
    except ValueError:
        return path.absolute().as_posix()


def _shown(path: Path, root: Path) -> str:
    """The relative name as stored in the index and shown to the user (see display_name)."""
    return display_name(_relative(path, root))


def decode(data: bytes) -> tuple[str | None, str | None]:
    """(text, note): note is a warning (odd encoding) or, with text None, why the file is skipped.

    Whatever the encoding, text that comes out largely as junk is a binary file: a byte-order
    mark in front of random bytes decodes without error (as UTF-16) or with every other
    character replaced (as UTF-8), and indexing that would only fill the index with mojibake.
    """
    text, note = _decoded(data)
    if text is not None and not _mostly_text(text):
        return None, _NOT_TEXT
    return text, note


_NOT_TEXT = "binary file (not text in any known encoding)"


def _decoded(data: bytes) -> tuple[str | None, str | None]:
    """decode() before the check that the text is text: the encoding chosen by BOM, NULs, UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        return _try(data, "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, err = _try(data, "utf-16")
        return (text, "decoded as UTF-16") if text is not None else (None, err)
    if data.startswith(_BINARY_MAGIC):
        return None, "binary file (not text)"
    head = data[:8192]
    if b"\x00" in head:
        # UTF-16 without a BOM has a NUL in every other byte of ASCII text
        for enc, zeros in (("utf-16-le", head[1::2]), ("utf-16-be", head[0::2])):
            if zeros.count(0) >= 0.6 * max(1, len(zeros)):
                text, _ = _try(data, enc)
                if text is not None and _mostly_text(text):
                    return text, f"decoded as {enc.upper()} (no byte-order mark)"
        return None, "binary file (contains NUL bytes)"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    return data.decode("cp1252", errors="replace"), "not valid UTF-8; decoded as Windows-1252/Latin-1"


def _try(data: bytes, encoding: str) -> tuple[str | None, str | None]:
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError:
        return data.decode(encoding, errors="replace"), f"invalid {encoding} bytes replaced"


_JUNK_SHARE = 0.05  # real text with a few bad bytes or control codes stays far below this
_JUNK_CATEGORIES = frozenset({"Cc", "Cn", "Co", "Cs"})  # control, unassigned, private use, surrogate
_WINDOWS, _WINDOW = 8, 4096


def _is_junk(ch: str) -> bool:
    """Is this character one no text is made of? (A replacement character stands for a bad byte.)"""
    if ch in "\t\n\r\f":
        return False
    return ch == "\ufffd" or unicodedata.category(ch) in _JUNK_CATEGORIES


def _sample(text: str) -> str:
    """At most 8 windows of 4,096 characters spread evenly over `text`.

    Checking every character of a 20 MB file would take seconds; its first page alone would
    miss a file that is text only at its start.
    """
    if len(text) <= _WINDOWS * _WINDOW:
        return text
    step = (len(text) - _WINDOW) // (_WINDOWS - 1)
    return "".join(text[i * step : i * step + _WINDOW] for i in range(_WINDOWS))


def _mostly_text(text: str) -> bool:
    """Are at most 5% of the characters junk (see _is_junk)? The rule is the same for every encoding."""
    sample = _sample(text)
    return sum(map(_is_junk, sample)) <= _JUNK_SHARE * len(sample)


_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISDIR, "a folder"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_bytes(path: Path) -> tuple[bytes | None, str | None]:
    """(data, None) for a regular file, or (None, why it is skipped); never blocks, never raises.

    Only regular files are opened: a FIFO would block forever, a device such as /dev/zero
    never ends. The size cap is applied to the bytes read (at most cap + 1), not to what
    stat says, which a /proc file or a growing file gets wrong.
    """
    cap = max_file_bytes()
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return None, f"not a regular file ({_kind(st.st_mode)})"
        if st.st_size > cap:
            return None, _too_large(st.st_size, cap)
        with path.open("rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if not stat.S_ISREG(mode):  # replaced between the stat and the open
                return None, f"not a regular file ({_kind(mode)})"
            data = fh.read(cap + 1)
    except PermissionError:
        return None, "permission denied"
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    if len(data) > cap:
        return None, _too_large(None, cap)
    return data, None


def _too_large(size: int | None, cap: int) -> str:
    mb = 1024 * 1024  # the same unit as QA_MAX_FILE_MB
    what = f"{size / mb:.0f} MB" if size is not None else f"more than {cap / mb:.0f} MB"
    return f"too large ({what}; the limit is {cap / mb:.0f} MB, set QA_MAX_FILE_MB to change it)"


def read_file(path: Path) -> tuple[str | None, str | None]:
    """(text, note) for one file; never raises for what a folder may contain."""
    data, why = read_bytes(path)
    if data is None:
        return None, why
    return _decode_read(data)


def _decode_read(data: bytes) -> tuple[str | None, str | None]:
    if not data.strip():
        return None, "empty file"
    return decode(data)


class Fingerprint:
    """The corpus hash, fed with exactly the bytes read (or why a file was not read).

    Built in the same pass as reading, so what the index records is what it holds: a file
    changed or deleted while a build runs makes the next load see the index as stale.
    """

    def __init__(self) -> None:
        self._h = hashlib.sha256(f"ingest-v{INGEST_VERSION}\n".encode())
        self.file_hashes: dict[str, str] = {}  # display name -> sha256 of the bytes read

    def add(self, rel: str, data: bytes | None, why: str | None) -> None:
        self._h.update(rel.encode("utf-8", "surrogateescape") + b"\0")
        if data is not None:
            digest = hashlib.sha256(data)
            self._h.update(digest.digest())
            self.file_hashes[display_name(rel)] = digest.hexdigest()
        else:
            self._h.update(f"unreadable:{why}".encode("utf-8", "surrogateescape"))
        self._h.update(b"\n")

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def load_corpus(paths: Sequence[str | Path], progress: Callable[[str, int, int], None] | None = None, follow_links: bool = False) -> Corpus:
    """Read every file under `paths` into clean documents, with what was skipped and why
    (`follow_links`: also symlinks leading outside `paths`, see discover).

    `progress("read", done, total)` counts files (a corpus named as one folder is still 6 files read, not "1/1").
    """
    root, files, walk_skipped = discover([Path(p) for p in paths], follow_links)
    skipped = [Skipped(_shown(p, root), reason) for p, reason in walk_skipped]
    warnings: list[str] = []
    texts: dict[str, str] = {}
    extracted: dict[str, Extracted] = {}  # PDF/HTML/DOCX: lines from qa/documents/formats
    order: list[str] = []  # files with text, in reading order
    read: list[str] = []
    fingerprint = Fingerprint()
    if progress:
        progress("read", 0, len(files))
    for done, f in enumerate(files, start=1):
        if progress and done > 1:
            progress("read", done - 1, len(files))
        rel = _shown(f, root)
        data, why = read_bytes(f)
        fingerprint.add(_relative(f, root), data, why)
        if data is None:
            skipped.append(Skipped(rel, why or "unreadable"))
            continue
        read.append(rel)  # a regular file whose bytes were read: counted among "files"
        if is_extracted(rel):
            ex, why = extract(data, rel)
            if ex is None:
                skipped.append(Skipped(rel, why or "unreadable"))
                continue
            if ex.note:
                warnings.append(f"{rel}: {ex.note}")
            extracted[rel] = ex
            order.append(rel)
            continue
        text, note = _decode_read(data)
        if text is None:
            skipped.append(Skipped(rel, note or "unreadable"))
            continue
        if note:
            warnings.append(f"{rel}: {note}")
        texts[rel] = text
        order.append(rel)
    if progress and files:
        progress("read", len(files), len(files))
    repeated = repeated_lines(split_lines(t) for t in texts.values()) if len(texts) > 1 else frozenset()
    documents: list[Document] = []
    dropped: dict[str, int] = {}
    for rel in order:
        if rel in extracted:
            docs = to_documents(extracted[rel], rel)
        else:
            cleaned = clean_file(texts[rel], rel, repeated)
            docs = cleaned.documents
            if cleaned.dropped:
                dropped[rel] = len(cleaned.dropped)
        if not docs:
            skipped.append(Skipped(rel, "no text left after removing boilerplate"))
        documents.extend(docs)
    return Corpus(
        documents=tuple(documents),
        files=tuple(read),
        skipped=tuple(skipped),
        warnings=tuple(warnings),
        root=str(root),  # the real path (lone surrogates and all): spans.py reopens files under it
        fingerprint=fingerprint.hexdigest(),
        file_hashes=dict(fingerprint.file_hashes),
        dropped_lines=dropped,
    )


def corpus_fingerprint(paths: Sequence[str | Path], follow_links: bool = False) -> str:
    """A hash of every file's name and bytes (and the cleaning rules' version).

    Cheap enough to compute on every load, so a changed, added or removed file is noticed;
    it reads files exactly as load_corpus does (regular files only, up to the size cap), so
    both agree on an unchanged corpus.
    """
    root, files, _ = discover([Path(p) for p in paths], follow_links)
    fingerprint = Fingerprint()
    for f in files:
        data, why = read_bytes(f)
        fingerprint.add(_relative(f, root), data, why)
    return fingerprint.hexdigest()


def source_lines(path: Path) -> tuple[list[str], tuple[int, ...]] | None:
    """The lines of one file as ingest numbers them (normalised), and where its pages start.

    Plain text: the file's own lines. PDF/HTML/DOCX: the lines qa/documents/formats extracts, read by
    the same function ingest used, so a line number means the same line to both. None when
    the file cannot be read now (moved, changed into something unreadable).
    """
    return read_source(path)[0]


def read_source(path: Path) -> tuple[tuple[list[str], tuple[int, ...]] | None, str | None]:
    """(source_lines of the file, SHA-256 of its bytes as the index's manifest records it);
    (None, None) when it cannot be read — the hash tells whether it is still the file indexed."""
    data, _ = read_bytes(path)
    if data is None:
        return None, None
    return _lines_of(path, data), hashlib.sha256(data).hexdigest()


def _lines_of(path: Path, data: bytes) -> tuple[list[str], tuple[int, ...]] | None:
    from qa.documents.clean import normalize_line

    if is_extracted(path.name):
        from qa.documents.formats import file_lines

        return file_lines(data, path.name)
    text, _ = _decode_read(data)
    if text is None:
        return None
    return [normalize_line(line) for line in split_lines(text)], ()
