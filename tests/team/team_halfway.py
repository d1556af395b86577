"""A team process killed half-way, for tests/team/test_dead_owners.py: opens the library
at ``URL`` (the folder ``ROOT`` its storage), then leaves three steps in flight exactly
where a kill can catch them — an idempotency claim of a request still running, a move
between its link and its commit (the old name already gone), a trash between its rename
into ``trash/`` and its commit, a download job being prepared — prints ``halfway`` and
the job's id, and waits to be killed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from imageshelf.app.library import Library, rules
from imageshelf.app.library.records import now_us
from imageshelf.app.library.sql import download_rows, rows, trash_rows
from imageshelf.app.library.sql.download_rows import EntryRow, JobRow
from tests.pg_server import folder_storage


def main() -> None:
    url, root, move_id, trash_id = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    lib = Library.open_team(url, folder_storage(root))
    core = lib.core
    claim = lib.idempotency.claim("worker", "dead-key", "POST /v3/images", "f" * 64)
    assert claim.outcome.value == "proceed"
    moving = core.get(move_id)
    with core.write() as conn:
        rows.set_pending(conn, move_id, "moved", moving.filename)
    core.storage.make_folder("moved")
    assert core.storage.link(moving.relpath, f"moved/{moving.filename}")
    core.storage.remove(moving.relpath)
    trashing = core.get(trash_id)
    with core.write() as conn:
        trash_rows.copy_in(conn, trash_id, now_us())
    lib.trash.dir.mkdir(exist_ok=True)
    os.replace(root / trashing.relpath, lib.trash.path_of(trash_id, trashing.filename))
    now = now_us()
    job = JobRow(rules.new_download_id(), "PROCESSING", None, 1, None, [], now, now + 10**10)
    entry = EntryRow(0, moving.id, moving.relpath, moving.filename, moving.size, 0, "", None)
    with core.write() as conn:  # as its preparation found it: begun, not finished
        download_rows.insert_job(conn, job, [entry])
    print("halfway", job.id, flush=True)
    sys.stdin.read()  # killed here


if __name__ == "__main__":
    main()
