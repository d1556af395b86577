"""On PostgreSQL a cursor page of an ``ids`` filter reads those images first and applies
the rest of the filter, the cursor's bound and the order to them (``keyset._source``).
psycopg prepares a statement run often, and PostgreSQL may then keep one generic plan
for it, made without the cursor's values; such a plan walked the sort's index over half
the library, testing each row against the ids. Here every sort is walked both ways, with
the database told to use generic plans as soon as a statement is prepared, and each page
must hold what the filter means."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import text

from imageshelf.app.library import Library, Sort
from tests.conftest import image_bytes
from tests.pg_server import folder_storage
from tests.team.statements import statements_on_this_thread

IMAGES = 24
LIMIT = 3


def _fill(lib: Library) -> list[str]:
    ids = []
    for i in range(IMAGES):
        data = image_bytes("PNG", color=(i * 9 % 256, 40, 90))
        record = lib.commit(lib.prepare(io.BytesIO(data), f"photo {IMAGES - i:02d}.png"))
        ids.append(record.id)
    return ids


def _in_order(lib: Library, sort: Sort, wanted: set[str]) -> list[str]:
    everything = lib.list_images(sort=sort, page_size=100).items
    assert len(everything) == IMAGES
    return [r.id for r in everything if r.id in wanted]


def _walk(lib: Library, sort: Sort, ids: list[str], total: int) -> list[str]:
    """The pages forward from the first, then backward from the last; both must agree."""
    forward: list[str] = []
    got = lib.list_by_cursor(ids=ids, sort=sort, limit=LIMIT)
    while True:
        assert got.total == total
        forward += [r.id for r in got.items]
        if not got.has_next_page:
            break
        got = lib.list_by_cursor(ids=ids, sort=sort, limit=LIMIT, after=got.end_cursor)
    backward = [r.id for r in got.items]
    while got.has_previous_page:
        got = lib.list_by_cursor(ids=ids, sort=sort, limit=LIMIT, before=got.start_cursor)
        assert got.total == total
        backward = [r.id for r in got.items] + backward
    assert backward == forward
    return forward


def test_pages_of_ids_in_every_sort_under_generic_plans(pg_database: str, tmp_path: Path) -> None:
    storage = tmp_path / "team"
    with Library.open_team(pg_database, folder_storage(storage)) as lib:
        every = _fill(lib)
        with lib.engine.begin() as conn:
            name = conn.execute(text("SELECT current_database()")).scalar_one()
            conn.execute(text(f'ALTER DATABASE "{name}" SET plan_cache_mode = force_generic_plan'))
    ids = every[1::3] + every[::7]  # out of order, one twice
    wanted = set(ids)
    # A new library: its connections start with the database's setting.
    with Library.open_team(pg_database, folder_storage(storage)) as lib:
        with lib.engine.connect() as conn:
            assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_generic_plan"
        for sort in Sort:
            expected = _in_order(lib, sort, wanted)
            assert len(expected) == len(wanted)
            # Walked again and again: psycopg prepares each page's statement on its 5th run.
            for _ in range(4):
                assert _walk(lib, sort, ids, len(wanted)) == expected


def test_a_cursor_page_of_ids_reads_those_images_first(pg_library: Library) -> None:
    ids = _fill(pg_library)[::5]
    first = pg_library.list_by_cursor(ids=ids, limit=LIMIT)
    with statements_on_this_thread(pg_library.engine) as sent:
        pg_library.list_by_cursor(ids=ids, limit=LIMIT, after=first.end_cursor)
    pages = [s for s in sent if "ORDER BY" in s and "LIMIT" in s]
    assert pages
    assert all("OFFSET 0) AS images" in s for s in pages)
