"""JSONL lines as JSON means them: split at `\\n` only.

JSON allows U+2028, U+2029 and U+0085 raw inside a string, and qa writes them raw
(`ensure_ascii=False`); `str.splitlines()` breaks at those too, cutting a record in two —
an index whose passage title held one read back as "corrupt", a batch question as "not valid
JSON". Every JSONL reader in qa goes through `jsonl_lines`.
"""

from __future__ import annotations


def jsonl_lines(text: str) -> list[str]:
    """The lines of `text` split at `\\n` (a `\\r` before it dropped), as a JSONL reader needs.

    Line i of the result is line i + 1 as an editor counts it, so messages name the right line.
    """
    return [line.removesuffix("\r") for line in text.split("\n")]
