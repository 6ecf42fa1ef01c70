"""Make untrusted text (documents, questions) safe to show in a terminal.

Rich markup is avoided by always printing `rich.text.Text` objects; this handles what Text
does not: control characters and ANSI escape sequences, which are shown as visible symbols
(␛ for ESC) instead of being sent to the terminal.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with C0/C1 control characters replaced by their visible Unicode pictures."""
    return _CONTROL.sub(lambda m: chr(0x2400 + ord(m.group())) if ord(m.group()) < 0x20 else "␡" if m.group() == "\x7f" else "�", text)


def plural(count: int, noun: str) -> str:
    """"1 answer", "2 answers": counts are read by people, so they must read right."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
