"""Queues uploads for one shared commit (``group_commit.py``), then kills itself with
SIGKILL at a step of that commit (by test_group_commit).

Usage: ``python group_commit_worker.py LIBRARY linked|committed N``. Prints
``prepared <sha256>`` for each upload made ready, then queues them all while holding the
write lock (so one commit takes them all) and lets them go:

- ``linked``: killed at the fsync of the folder, after every file is linked under its
  new name and before the rows are committed;
- ``committed``: killed at the first upload's announcement, after the commit."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
from typing import Any

from PIL import Image

from imageshelf.app.library import Library, files, group_commit
from imageshelf.app.library.events import Event


def die(*_: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(path: str, step: str, n: int) -> None:
    lib = Library.open(path)
    prepared = []
    for i in range(n):
        out = io.BytesIO()
        Image.new("RGB", (64 + i, 48), (i * 50, 120, 30)).save(out, "PNG")
        prepared.append(lib.prepare(io.BytesIO(out.getvalue()), "shot.png"))
        sys.stdout.write(f"prepared {prepared[-1].sha256}\n")
    sys.stdout.flush()
    if step == "linked":
        files.fsync_dir = die  # type: ignore[assignment]
    else:

        def on_event(event: Event) -> None:
            die()

        lib.core.events.subscribe(on_event)
    queue = group_commit.queue_of(lib.core)
    threads = [
        threading.Thread(target=lambda p=p: lib.commit(p, alt_text="queued"), daemon=True)
        for p in prepared
    ]
    with lib.core.write_lock:
        for t in threads:
            t.start()
        ready = threading.Event()
        while queue.waiting() < n:
            ready.wait(0.01)
    for t in threads:
        t.join(60)
    sys.exit("the kill never came")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
