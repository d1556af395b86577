"""A process that renames and moves a big folder in a loop until it is killed (by
test_folder_crash_safety).

Usage: ``python folder_crash_worker.py LIBRARY SEED``. Before each operation it prints
``moving <from> <to>``, after it ``moved <to>``, flushed, so the test knows where the
folder may be."""

from __future__ import annotations

import random
import sys

from imageshelf.app.library import Library

# Renames and moves, with non-ASCII names and a parent that is made on the way.
PLACES = ["big", "Groß ñ", "deep/big", "deep/Groß ñ", "other"]


def say(*words: object) -> None:
    sys.stdout.write("\t".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def _one_step(a: str, b: str) -> bool:
    (pa, _, na), (pb, _, nb) = a.rpartition("/"), b.rpartition("/")
    return pa == pb or na == nb


def main(path: str, seed: int) -> None:
    rng = random.Random(seed)
    lib = Library.open(path)  # reconciles: finishes or undoes what a kill left
    here = next(p for p in PLACES if (lib.root / p).is_dir() and lib.count(folder=p))
    say("ready", here)
    while True:
        # One step at a time (a rename in place, or a move keeping the name), so the
        # folder is always at one of two places.
        there = rng.choice([p for p in PLACES if p != here and _one_step(here, p)])
        say("moving", here, there)
        parent, _, name = there.rpartition("/")
        if here.rpartition("/")[0] == parent:
            lib.rename_folder(here, name)
        else:
            lib.move_folder(here, parent or None)
        here = there
        say("moved", here)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
