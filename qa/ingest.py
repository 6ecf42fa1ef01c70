"""Find, read and decode the files of a corpus, and hand their text to `clean`.

People point the tool at their own folders, so nothing found there may crash it: binary
files, odd encodings, unreadable files, symlink loops and huge files are skipped or decoded
with a one-line reason each, collected in `Corpus.skipped` / `Corpus.warnings` for the
summary.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from .clean import clean_text, repeated_lines, split_lines
from .errors import UsageError
from .formats import SUFFIXES as FORMAT_SUFFIXES
from .formats import Extracted, extract, is_extracted, to_documents
from .records import Corpus, Document, Skipped

# Bumped whenever cleaning rules change what documents come out, so old indexes are stale.
INGEST_VERSION = "3"  # 3: PDF, HTML and DOCX files are read (qa/formats)
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
READ_SUFFIXES = TEXT_SUFFIXES + FORMAT_SUFFIXES  # plain text, and what qa/formats reads
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x7fELF", b"\x1f\x8b", b"BZh", b"7z\xbc\xaf")


def max_file_bytes() -> int:
    """Files above this size are skipped: embedding them would take hours on a laptop CPU."""
    try:
        return int(float(os.environ.get("QA_MAX_FILE_MB", "20")) * 1024 * 1024)
    except ValueError:
        return 20 * 1024 * 1024


def _walk(folder: Path, skipped: list[tuple[Path, str]]) -> Iterator[Path]:
    """Text files under `folder`, following symlinks but never into a loop.

    Hidden entries and files of other types are not read, but each is reported as skipped
    (with why), so a user whose .rst notes are missing from the answers learns the reason.
    """
    visited: set[tuple[int, int]] = set()

    def onerror(err: OSError) -> None:
        skipped.append((Path(err.filename or folder), f"cannot read folder: {err.strerror or err}"))

    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True, onerror=onerror):
        try:
            st = os.stat(dirpath)
        except OSError as exc:
            skipped.append((Path(dirpath), f"cannot read folder: {exc.strerror or exc}"))
            dirnames[:] = []
            continue
        key = (st.st_dev, st.st_ino)
        if key in visited:
            skipped.append((Path(dirpath), "symlink loop: folder already read"))
            dirnames[:] = []
            continue
        visited.add(key)
        skipped.extend((Path(dirpath) / d, "hidden folder") for d in sorted(dirnames) if d.startswith("."))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            why = _not_read_because(name)
            if why is None:
                yield Path(dirpath) / name
            else:
                skipped.append((Path(dirpath) / name, why))


def real_name(shown: str) -> str:
    """The file name display_name(name) came from: \\xNN escapes turned back into the bytes.

    Used to reopen a file (for line numbers) whose stored name is the display form.
    """
    import re

    data = re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]), shown.encode("utf-8", "surrogateescape"))
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
    """`name` as text safe to print, JSON-encode and tokenize: undecodable bytes become \\xNN.

    File names are bytes on Linux; Python keeps the undecodable ones as lone surrogates
    (surrogateescape), which crash UTF-8 encoders and tokenizers downstream.
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def discover(paths: Sequence[Path]) -> tuple[Path, list[Path], list[tuple[Path, str]]]:
    """(root, files, skipped): every file to read, sorted, and the root their names are relative to."""
    skipped: list[tuple[Path, str]] = []
    files: list[Path] = []
    for p in paths:
        if not p.exists() and not p.is_symlink():
            raise UsageError(f"no such file or folder: {p}")
        if p.is_dir():
            files.extend(_walk(p, skipped))
        elif p.is_file():
            files.append(p)
        else:
            skipped.append((p, "not a regular file (broken symlink or device)"))
    absolute = [p.absolute() for p in paths]
    if len(absolute) == 1:
        root = absolute[0] if absolute[0].is_dir() else absolute[0].parent
    else:
        root = Path(os.path.commonpath([a if a.is_dir() else a.parent for a in absolute]))
    unique = sorted({f.absolute() for f in files}, key=lambda f: _relative(f, root))
    return root, unique, skipped


def _relative(path: Path, root: Path) -> str:
    try:
        return path.absolute().relative_to(root).as_posix()
    except ValueError:
        return path.absolute().as_posix()


def _shown(path: Path, root: Path) -> str:
    """The relative name as stored in the index and shown to the user (see display_name)."""
    return display_name(_relative(path, root))


def decode(data: bytes) -> tuple[str | None, str | None]:
    """(text, note): note is a warning (odd encoding) or, with text None, why the file is skipped."""
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
                if text is not None and _mostly_printable(text):
                    return text, f"decoded as {enc.upper()} (no byte-order mark)"
        return None, "binary file (contains NUL bytes)"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="replace")
    if not _mostly_printable(text):
        return None, "binary file (not text in any known encoding)"
    return text, "not valid UTF-8; decoded as Windows-1252/Latin-1"


def _try(data: bytes, encoding: str) -> tuple[str | None, str | None]:
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError:
        return data.decode(encoding, errors="replace"), f"invalid {encoding} bytes replaced"


def _mostly_printable(text: str) -> bool:
    sample = text[:8192]
    if not sample:
        return True
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\f") or ch == "\ufffd")
    return bad <= 0.05 * len(sample)


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


def load_corpus(paths: Sequence[str | Path]) -> Corpus:
    """Read every file under `paths` into clean documents, with what was skipped and why."""
    root, files, walk_skipped = discover([Path(p) for p in paths])
    skipped = [Skipped(_shown(p, root), reason) for p, reason in walk_skipped]
    warnings: list[str] = []
    texts: dict[str, str] = {}
    extracted: dict[str, Extracted] = {}  # PDF/HTML/DOCX: lines from qa/formats
    order: list[str] = []  # files with text, in reading order
    read: list[str] = []
    fingerprint = Fingerprint()
    for f in files:
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
    repeated = repeated_lines(split_lines(t) for t in texts.values()) if len(texts) > 1 else frozenset()
    documents: list[Document] = []
    for rel in order:
        docs = to_documents(extracted[rel], rel) if rel in extracted else clean_text(texts[rel], rel, repeated)
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
    )


def corpus_fingerprint(paths: Sequence[str | Path]) -> str:
    """A hash of every file's name and bytes (and the cleaning rules' version).

    Cheap enough to compute on every load, so a changed, added or removed file is noticed;
    it reads files exactly as load_corpus does (regular files only, up to the size cap), so
    both agree on an unchanged corpus.
    """
    root, files, _ = discover([Path(p) for p in paths])
    fingerprint = Fingerprint()
    for f in files:
        data, why = read_bytes(f)
        fingerprint.add(_relative(f, root), data, why)
    return fingerprint.hexdigest()


def source_lines(path: Path) -> tuple[list[str], tuple[int, ...]] | None:
    """The lines of one file as ingest numbers them (normalised), and where its pages start.

    Plain text: the file's own lines. PDF/HTML/DOCX: the lines qa/formats extracts, read by
    the same function ingest used, so a line number means the same line to both. None when
    the file cannot be read now (moved, changed into something unreadable).
    """
    from .clean import normalize_line

    data, _ = read_bytes(path)
    if data is None:
        return None
    if is_extracted(path.name):
        from .formats import file_lines

        return file_lines(data, path.name)
    text, _ = _decode_read(data)
    if text is None:
        return None
    return [normalize_line(line) for line in split_lines(text)], ()
