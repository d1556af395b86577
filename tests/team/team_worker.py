"""A second process on a team library, for tests/team/test_team_processes.py: opens the
library at ``URL`` with the folder ``ROOT`` as its storage, adds ``COUNT`` images (0:
until killed) and prints each one's id once ``add`` has returned (acknowledged)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from imageshelf.app.library import Library
from tests.conftest import image_bytes
from tests.pg_server import folder_storage


def main() -> None:
    url, root, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    lib = Library.open_team(url, folder_storage(root))
    print("open", flush=True)
    n = 0
    while count == 0 or n < count:
        data = image_bytes("JPEG", color=(n % 256, (n // 256) % 256, 7))
        rec = lib.add(io.BytesIO(data), "from-worker.jpg", folder="worker")
        print(rec.id, flush=True)
        n += 1
    lib.close()


if __name__ == "__main__":
    main()
