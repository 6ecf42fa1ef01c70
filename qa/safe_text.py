"""Make untrusted text (documents, questions) safe to show in a terminal.

Rich markup is avoided by always printing `rich.text.Text` objects; this handles what Text
does not: control characters and ANSI escape sequences. Document text is shown with visible
symbols, one for one (`printable`: ␛ for ESC, so span offsets stay valid); file names, paths
and messages with the escape written out (`shown_path`, `escape_controls`: `\\x1b`), so the
user can tell what a name holds; JSON for the terminal or an export with them as `\\uXXXX`
(`json_text`).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# C0, DEL, C1, the line and paragraph separators, and lone surrogates (undecodable name bytes)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def escape_controls(text: str, keep: str = "") -> str:
    """`text` with every control character written out as `\\x1b` (`\\u009b`, `\\u2028` beyond ASCII),
    except those in `keep` (a message's own line breaks).

    A lone surrogate is how Python hands over a byte of a file name that is not UTF-8
    (surrogateescape): it is written as that byte, `\\xe9`, as `qa.documents.ingest.real_name` reads back.
    Unlike `printable`, the escape is several characters: for names and messages, where no
    offset points into the text, and where the user must be able to tell what the name holds.
    """

    def escape(match: re.Match[str]) -> str:
        ch = match.group()
        if ch in keep:
            return ch
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            return f"\\x{code - 0xDC00:02x}"
        return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"  # \\x80-\\xff would read as a byte

    return _UNSAFE.sub(escape, text)


def shown_path(path: str | os.PathLike[str]) -> str:
    """A file name or path as qa shows it anywhere (terminal, chat, exports, messages): control
    characters escaped, so a name such as `evil\\x1b]0;pwned\\x07.txt` cannot recolour the
    output or set the terminal's title. The one function every name on screen goes through."""
    return escape_controls(os.fspath(path))


def printable(text: str) -> str:
    """`text` with C0/C1 control characters replaced by their visible Unicode pictures."""
    return _CONTROL.sub(lambda m: chr(0x2400 + ord(m.group())) if ord(m.group()) < 0x20 else "␡" if m.group() == "\x7f" else "�", text)


_JSON_RAW = re.compile(r"[\x7f-\x9f\u2028\u2029\ud800-\udfff]")  # json.dumps leaves these raw (it escapes C0)


def json_text(obj: Any, indent: int | None = None) -> str:
    """`obj` as JSON holding the exact data, with no raw control character in its text.

    `ensure_ascii=False` keeps names and text readable, but leaves DEL, C1 controls (a CSI
    that recolours a terminal) and U+2028/9 raw; inside JSON they can only stand in strings,
    so writing them as \\uXXXX keeps the document valid and its data the same.
    """
    text = json.dumps(obj, ensure_ascii=False, indent=indent)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def plural(count: int, noun: str) -> str:
    """"1 answer", "2 answers": counts are read by people, so they must read right."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
