"""A process that writes to a library in a loop until it is killed (by test_crash_safety).

Usage: ``python crash_worker.py LIBRARY add|move|delete SEED``. Each write is acknowledged
on stdout, flushed, only after the call returned, so the test knows exactly which writes
the library promised to keep:

- ``add``: ``added <id> <sha256>``
- ``move``: ``moving <id> <folder>`` before the call, ``moved <id> <folder>`` after
- ``delete``: ``deleting <id>`` before, ``deleted <id>`` after (to the trash)
- ``trash``: deletes (one, or a batch of three with ``move_many``) and restores at
  random: ``deleting``/``deleted`` as above (for each of a batch),
  ``restoring <id>`` before and ``restored <id>`` after a restore
- ``purge``: trashes every image, says ``trashed``, then purges them one by one:
  ``purging <id>`` before, ``purged <id>`` after
- ``empty``: trashes every image, then empties the trash in batches of 3, saying
  ``emptied <done> <total>`` after each batch

``-`` stands for the root folder."""

from __future__ import annotations

import io
import os
import random
import sys

from PIL import Image

from imageshelf.app.library import Library

FOLDERS = [None, "a", "b/c", "d"]


def noise_png(rng: random.Random) -> bytes:
    side = rng.randrange(120, 320)
    img = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=0)
    return out.getvalue()


def say(*words: object) -> None:
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def main(path: str, mode: str, seed: int) -> None:
    rng = random.Random(seed)
    lib = Library.open(path)
    say("ready", os.getpid())
    if mode == "add":
        while True:
            folder = rng.choice(FOLDERS)
            rec = lib.add(io.BytesIO(noise_png(rng)), "shot.png", folder=folder)
            say("added", rec.id, rec.sha256)
    ids = [r.id for r in lib.list_images(page_size=100).items]
    if mode == "move":
        while True:
            image_id = rng.choice(ids)
            folder = rng.choice(FOLDERS)
            say("moving", image_id, folder or "-")
            lib.update(image_id, folder=folder)
            say("moved", image_id, folder or "-")
    if mode == "trash":
        trashed = {i.image.id for i in lib.trash.items(page_size=100).items}
        ids += sorted(trashed)
        while True:
            image_id = rng.choice(ids)
            if image_id in trashed:
                say("restoring", image_id)
                lib.trash.restore(image_id)
                trashed.discard(image_id)
                say("restored", image_id)
            elif rng.random() < 0.3:  # a multi-selection: one batch
                batch = [image_id, *rng.sample(sorted(set(ids) - trashed), 2)]
                batch = list(dict.fromkeys(batch))
                for i in batch:
                    say("deleting", i)
                lib.trash.move_many(batch)
                trashed.update(batch)
                for i in batch:
                    say("deleted", i)
            else:
                say("deleting", image_id)
                lib.delete(image_id)
                trashed.add(image_id)
                say("deleted", image_id)
    if mode == "purge":
        for image_id in ids:
            lib.delete(image_id)
        say("trashed")
        ids = [i.image.id for i in lib.trash.items(page_size=100).items]
        rng.shuffle(ids)
        for image_id in ids:
            say("purging", image_id)
            lib.trash.purge(image_id)
            say("purged", image_id)
        say("done")
        sys.stdin.read()
    if mode == "empty":
        # Small batches, so the kill lands between two of them as well as inside one.
        import imageshelf.app.library.trash as trash_module

        trash_module.PURGE_BATCH = 3
        for image_id in ids:
            lib.delete(image_id)
        say("trashed", lib.trash.count())
        lib.trash.empty(progress=lambda done, total: say("emptied", done, total))
        say("done")
        sys.stdin.read()
    if mode == "delete":
        rng.shuffle(ids)
        for image_id in ids:
            say("deleting", image_id)
            lib.delete(image_id)
            say("deleted", image_id)
        say("done")
        sys.stdin.read()  # wait to be killed, holding the library like a running app


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
