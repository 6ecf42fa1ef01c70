"""Errors nobody planned for still end in one line, never a traceback."""

from __future__ import annotations

import pytest

from qa import cli


def _boom(exc: BaseException):  # type: ignore[no-untyped-def]
    def raise_it(*_a, **_k):  # type: ignore[no-untyped-def]
        raise exc

    return raise_it


@pytest.mark.parametrize(
    "exc, code, text",
    [
        (PermissionError(13, "Permission denied", "/some/file"), 2, "Permission denied (/some/file)"),
        (RuntimeError("unexpected state"), 1, "internal error: RuntimeError: unexpected state"),
    ],
)
def test_unplanned_errors_are_one_line(monkeypatch, capsys, exc, code, text) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("QA_DEBUG", raising=False)
    monkeypatch.setattr(cli.LazyGroup, "invoke", _boom(exc))
    assert cli.run(["search", "anything"]) == code
    err = capsys.readouterr().err
    assert text in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_qa_debug_shows_the_traceback(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QA_DEBUG", "1")
    monkeypatch.setattr(cli.LazyGroup, "invoke", _boom(RuntimeError("details")))
    with pytest.raises(RuntimeError):
        cli.run(["search", "anything"])
