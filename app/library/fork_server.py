"""Imported by the decode workers' fork server alone (``decode_workers._context`` lists it
in the server's preload), never by the library process: it makes every worker forked from
there skip re-running the program's main module.

``multiprocessing`` prepares each new process by running the parent's ``__main__`` again
(as ``__mp_main__``), so that functions defined there can be unpickled. The workers run
only functions of ``decode_workers``, but paid for it anyway: launched by the installed
``imageshelf`` command (a script, so run again by path), each worker imported the whole
command line tool, SQLAlchemy included (≈ 0.35 s of CPU), before its first photo; under a
benchmark's harness, the harness. ``python -m imageshelf`` was spared only because
``multiprocessing`` leaves a ``__main__`` module named ``….__main__`` alone.

The price: a function defined in a program's main module cannot be run in these
workers (none is; every task is a function of this package). Only this server's
children are concerned: the library process's own ``multiprocessing``
(the transform workers are spawned, from a fresh interpreter) is untouched. Where a later
Python names these steps differently, nothing is replaced and the workers behave as
before."""

from __future__ import annotations

from multiprocessing import spawn


def _main_left_alone(_main: str) -> None:
    """In place of ``spawn._fixup_main_from_name`` and ``…_from_path``."""


for _step in ("_fixup_main_from_name", "_fixup_main_from_path"):
    if callable(getattr(spawn, _step, None)):
        setattr(spawn, _step, _main_left_alone)
