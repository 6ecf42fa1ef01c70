"""SVG snapshots of the chat at 80×24: empty, loading, answered, conflict, not found.
A follow-up's frame is not a snapshot: after two questions the SVG's element order varied
with the tests run before it in one process (the same screen); tests/tui/test_chat_followup.py
checks what it shows with Pilot instead.

Regenerate with `pytest tests/tui/test_chat_snapshots.py --snapshot-update` and look at the
report. The answered states use fixed answers over the real seeds index (RecordedEngine):
these frames test presentation; the live answers are tested with Pilot elsewhere. Frames are deterministic: fixed size, no clock or spinner, the cursor does not blink.
"""

from __future__ import annotations

import threading

import pytest
from chat_helpers import ask, no_blink, recorded_app, screen_text, wait_for

from tui.app import QaApp


@pytest.fixture
def gate():
    event = threading.Event()
    yield event
    event.set()  # let the blocked factory thread finish (it is a daemon: it never blocks exit)


def _blocked(gate: threading.Event):
    def factory(progress, notify):
        progress("embed", 16, 112)
        gate.wait(60)
        raise RuntimeError("test over")

    return factory


def _asking(question: str):
    async def run_before(pilot):
        await no_blink(pilot)
        await ask(pilot, question)
        await pilot.pause()

    return run_before


@pytest.mark.slow
def test_empty(snap_compare, seeds_engine):
    assert snap_compare(QaApp(engine=seeds_engine), run_before=_status_reads("Ready"))


def test_loading_with_a_queued_question(snap_compare, gate):
    async def run_before(pilot):
        await _status_reads("16/112")(pilot)
        pilot.app.query_one("#prompt").value = "How many people died in the protests?"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Waiting for the index" in screen_text(pilot.app))

    assert snap_compare(QaApp(engine_factory=_blocked(gate)), run_before=run_before)


@pytest.mark.slow
def test_answered(snap_compare, seeds_engine):
    assert snap_compare(recorded_app(seeds_engine), run_before=_asking("Who is the president of Peru?"))


@pytest.mark.slow
def test_conflict(snap_compare, seeds_engine):
    assert snap_compare(recorded_app(seeds_engine), run_before=_asking("How many people died in the protests?"))


@pytest.mark.slow
def test_not_found(snap_compare, seeds_engine):
    assert snap_compare(recorded_app(seeds_engine), run_before=_asking("What is the boiling point of mercury?"))


def _status_reads(fragment: str):
    async def run_before(pilot):
        await no_blink(pilot)
        await wait_for(pilot, lambda: fragment in screen_text(pilot.app))

    return run_before
