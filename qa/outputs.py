"""Files qa writes for the user (batch answers, TREC runs and qrels): never in place of anything.

Why a rule of its own: an output path is typed by hand, and a slip (`-o questions.jsonl`,
`--run gold.jsonl`, `-o index/seeds/passages.jsonl`) used to replace the file it named. An
output therefore goes only where nothing stands yet — not over an input, not over an earlier
export, not over anything else — and not inside an index folder, which qa replaces whole on a
rebuild. The checks run before any work starts (a long evaluation does not end in a refusal),
and the file is then created exclusively (mode "x"), so a file that appears meanwhile is not
replaced either.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from qa.errors import UsageError


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: equal once resolved, or a hard link or symlink to it."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)
    return False


def index_holding(path: Path) -> Path | None:
    """The qa index folder that `path` would be written into, if any."""
    from qa.index.folder import foreign_entries

    for parent in Path(os.path.abspath(path)).parents:
        if (parent / "manifest.json").is_file() and not foreign_entries(parent):
            return parent
    return None


def check_new_output(path: Path, option: str, inputs: Sequence[tuple[str, Path]] = (), append: bool = False, resume_hint: str = "") -> None:
    """Refuse `path` as an output (one line, naming `option`) unless it can be written without
    replacing anything. `inputs`: (what it is, path) of the command's inputs, named in the
    refusal; `append=True` allows an existing file (it is added to, as --resume does)."""
    for what, given in inputs:
        if same_file(path, given):
            raise UsageError(f"{option} {path} is the {what} {given}: writing it would destroy it; choose another file")
    held = index_holding(path)
    if held is not None:
        raise UsageError(f"{option} {path} is inside the qa index {held}, which a rebuild replaces whole; choose a file outside it")
    if (path.exists() or path.is_symlink()) and not append:
        if path.is_dir():
            raise UsageError(f"{option} {path} is a folder; give a file name")
        raise UsageError(f"{option} {path} already exists and qa never replaces a file; choose a new name{resume_hint}")
    for parent in path.absolute().parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise UsageError(f"cannot write {path}: {parent} is a file, not a folder")
            break


def check_distinct(paths: Sequence[tuple[str, Path]]) -> None:
    """Refuse two outputs of one command that name the same file (the second would replace the first)."""
    for i, (opt_a, a) in enumerate(paths):
        for opt_b, b in paths[i + 1 :]:
            if os.path.abspath(a) == os.path.abspath(b):
                raise UsageError(f"{opt_a} and {opt_b} are the same file {a}; give each its own")


def create_new(path: Path, newline: str | None = None) -> TextIO:
    """`path` opened for writing only if it does not exist yet (its folders are made)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("x", encoding="utf-8", newline=newline)
    except FileExistsError:
        raise UsageError(f"{path} appeared while qa was working and qa never replaces a file; choose a new name") from None
    except OSError as exc:  # a read-only or missing place: one line, not a traceback
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
