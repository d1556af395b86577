"""The cycle collector's pauses (app/ui/gc_pauses.py): a launch's and the reconcile's
overlap, and the collector runs again only when the last ends; the start's objects are
frozen once, and a library switch hands them back."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from imageshelf.app.ui import gc_pauses
from imageshelf.app.ui.jobs import cyclic_gc_paused


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A process that has not launched yet; the real collector's state restored after."""
    for name, value in (("_pauses", 0), ("_start_paused", False), ("_frozen", False)):
        monkeypatch.setattr(gc_pauses, name, value)
    was = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        gc.unfreeze()
        (gc.enable if was else gc.disable)()


def test_the_collector_runs_again_only_when_the_last_pause_ends(fresh: None) -> None:
    gc_pauses.pause_for_start()
    assert not gc.isenabled()
    with cyclic_gc_paused():  # the reconcile, started before the first screen
        gc_pauses.settle_start()
        assert not gc.isenabled()  # the reconcile still runs
    assert gc.isenabled()


def test_the_start_is_frozen_once_and_a_switch_hands_it_back(fresh: None) -> None:
    gc_pauses.pause_for_start()
    gc_pauses.settle_start()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 1000
    gc_pauses.thaw()
    assert gc.get_freeze_count() == 0
    gc_pauses.pause_for_start()  # a second window in the same process: no new pause
    gc_pauses.settle_start()
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_process_that_did_not_launch_is_not_frozen(fresh: None) -> None:
    gc_pauses.settle_start()  # the tests' windows start their services this way
    assert gc.isenabled() and gc.get_freeze_count() == 0
