"""Limits on what a zip-based document (a .docx) holds, checked before any parser sees it.

The size cap of ingest counts the bytes on disk, but a .docx is a zip: 839 KB of it can
inflate to 3 million paragraphs, which python-docx parses into gigabytes of XML nodes over
minutes. Everything here is read from the zip's central directory (member count, declared
sizes) or counted while streaming the XML through the decompressor a chunk at a time, so a
file over a limit is refused within seconds and without holding its inflated parts in memory.
A member whose declared size is a lie is cut at that size by zipfile and fails its CRC check,
so the declared sizes bound what the parser can be given.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Iterator

from qa.documents.formats.base import Unreadable

MAX_PARTS = 5000  # files inside the zip; a long report with many pictures holds a few hundred
INFLATE_FACTOR = 5  # the parts may inflate to this many times the file size limit (QA_MAX_FILE_MB)
MAX_ELEMENTS = 2_000_000  # XML elements over all parts (a 1,000-page report holds well under 1 million)
_CHUNK = 1 << 20
_MB = 1024 * 1024


def inflate_limit() -> int:
    """Bytes the parts of one zip may inflate to: INFLATE_FACTOR × QA_MAX_FILE_MB (default 20)."""
    try:
        mb = float(os.environ.get("QA_MAX_FILE_MB", "20"))
    except ValueError:
        mb = 20.0
    return int(mb * _MB * INFLATE_FACTOR)


def open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """The zip, once its directory is within MAX_PARTS and inflate_limit(); raises Unreadable."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise Unreadable(f"damaged (not a readable {kind}: {type(exc).__name__})") from None
    if len(members) > MAX_PARTS:
        raise Unreadable(f"too many parts inside ({len(members):,} files in the zip; the limit is {MAX_PARTS:,})")
    inflated = sum(m.file_size for m in members)
    limit = inflate_limit()
    if inflated > limit:
        raise Unreadable(
            f"too large once unzipped ({inflated / _MB:,.0f} MB from {len(data) / 1024:,.0f} KB on disk; "
            f"the limit is {limit / _MB:.0f} MB, {INFLATE_FACTOR} × QA_MAX_FILE_MB)"
        )
    return archive


def _chunks(archive: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    with archive.open(name) as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def check_xml(archive: zipfile.ZipFile, kind: str, pattern: bytes, what: str, limit: int) -> None:
    """Stream every XML part and raise Unreadable when its elements exceed MAX_ELEMENTS or the
    matches of `pattern` (a regular expression of at most 8 bytes, such as a paragraph's start
    tag) exceed `limit` ("too many paragraphs"). Stops at the first limit passed."""
    found = re.compile(pattern)
    elements = matches = 0
    try:
        for member in archive.infolist():
            if not member.filename.endswith((".xml", ".rels")):
                continue
            tail = b""
            for chunk in _chunks(archive, member.filename):
                # a start tag is "<" not followed by "/", "?" or "!"; the two-byte forms are
                # counted with the previous chunk's last byte, so none is split or seen twice
                joined = tail[-1:] + chunk
                elements += chunk.count(b"<") - joined.count(b"</") - joined.count(b"<?") - joined.count(b"<!")
                window = tail[-7:] + chunk  # only matches that end in this chunk are counted
                matches += sum(1 for m in found.finditer(window) if m.end() > len(tail[-7:]))
                tail = chunk
                if matches > limit:
                    raise Unreadable(f"too many {what} (more than {limit:,}; not read)")
                if elements > MAX_ELEMENTS:
                    raise Unreadable(f"too complex (more than {MAX_ELEMENTS:,} XML elements inside; not read)")
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        raise Unreadable(f"damaged (not a readable {kind}: {type(exc).__name__})") from None
