"""What keeps the window's event loop free while workers run: the cycle collector waits
while a reconciliation allocates, the GUI thread gets the GIL back quickly, and it paints
without waiting for Qt's helper threads."""

from __future__ import annotations

import gc
import os
import sys

from imageshelf.app.ui.jobs import NO_PAINT_HELPERS, cyclic_gc_paused, favour_the_gui_thread


def test_gc_pauses_nest_and_end_with_the_last():
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still runs
    assert gc.isenabled()


def test_gc_left_off_by_someone_else_stays_off():
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_window_shortens_gil_turns(monkeypatch):
    monkeypatch.setattr(sys, "getswitchinterval", sys.getswitchinterval)
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        favour_the_gui_thread()
        assert sys.getswitchinterval() <= 0.001
    finally:
        sys.setswitchinterval(before)


def test_the_window_paints_without_qt_helper_threads(monkeypatch):
    """Qt's switch that keeps a paint's fills and blends on the painting thread is on
    once the window (or the launcher) has started; a choice made in the environment
    before is kept."""
    monkeypatch.delenv(NO_PAINT_HELPERS, raising=False)
    favour_the_gui_thread()
    assert os.environ[NO_PAINT_HELPERS] == "1"
    monkeypatch.setenv(NO_PAINT_HELPERS, "yes")
    favour_the_gui_thread()
    assert os.environ[NO_PAINT_HELPERS] == "yes"
