"""A team library (``Library.open_team``) on a real PostgreSQL: several Library objects
(standing in for processes: each has its own engine, pool and change listener) on one
database at once, changes reaching each other's events, writers serialised across them,
singleton work done by one, migrations run once, failures in words."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from imageshelf.app.library import Event, EventKind, Library, StorageError
from imageshelf.app.library.sql.engine import head_revision
from tests.conftest import image_bytes
from tests.pg_server import PgServer, folder_storage, free_port

JPEG = image_bytes("JPEG")


@pytest.fixture
def two(pg_database: str, tmp_path: Path) -> Iterator[tuple[Library, Library]]:
    """Two libraries on one database and one storage folder, as two processes are."""
    first = Library.open_team(pg_database, folder_storage(tmp_path / "team"))
    second = Library.open_team(pg_database, folder_storage(tmp_path / "team"))
    yield first, second
    second.close()
    first.close()


class Heard:
    """Events one library announces, with a wait for the one a test expects."""

    def __init__(self, lib: Library) -> None:
        self.events: list[Event] = []
        self._cond = threading.Condition()
        lib.subscribe(self._on)

    def _on(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, kind: EventKind, image_id: str, timeout: float = 5.0) -> Event:
        def found() -> Event | None:
            return next((e for e in self.events if e.kind == kind and e.image_id == image_id), None)

        with self._cond:
            self._cond.wait_for(lambda: found() is not None, timeout)
            event = found()
        assert event is not None, f"no {kind} of {image_id} within {timeout} s: {self.events}"
        return event


def test_a_team_library_is_team_and_has_no_process_lock(two: tuple[Library, Library]) -> None:
    first, second = two
    assert first.team and second.team
    assert not first.watching
    with first.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            head_revision()
        )


def test_a_change_in_one_reaches_the_others_events_within_a_second(
    two: tuple[Library, Library],
) -> None:
    first, second = two
    heard = Heard(second)
    own = Heard(first)
    added = first.add(io.BytesIO(JPEG), "sunset.jpg", alt_text="A sunset")
    event = heard.wait_for(EventKind.ADDED, added.id)
    assert event.image is not None and event.image.alt_text == "A sunset"
    assert event.source == "team"
    # The writer announces its own change once, not again through the database.
    updated = first.update(added.id, alt_text="A red sunset")
    heard.wait_for(EventKind.UPDATED, added.id)
    second.delete(updated.id)
    heard_first = own.wait_for(EventKind.DELETED, added.id)
    assert heard_first.source == "team"
    assert [e.kind for e in own.events if e.image_id == added.id].count(EventKind.ADDED) == 1


def test_the_change_feed_of_the_other_wakes_and_reads_it(two: tuple[Library, Library]) -> None:
    first, second = two
    since = second.changes.latest()
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.append(second.changes.wait(since, 10.0)))
    reader.start()
    added = first.add(io.BytesIO(JPEG), "feed.jpg")
    reader.join(10.0)
    assert not reader.is_alive()
    (read,) = got
    assert [(c.event, c.image_id) for c in read.changes] == [("image.created", added.id)]  # type: ignore[attr-defined]


def test_writers_of_two_libraries_queue_and_never_take_the_same_name(
    two: tuple[Library, Library],
) -> None:
    first, second = two
    made: list[str] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def add_many(lib: Library) -> None:
        try:
            for _ in range(5):
                rec = lib.add(io.BytesIO(JPEG), "same.jpg", folder="shared")
                with guard:
                    made.append(rec.filename)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=add_many, args=(lib,)) for lib in two]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(made) == len(set(made)) == 10
    listed = first.list_images(folder="shared").total
    assert listed == second.list_images(folder="shared").total == 10


def test_search_keeps_the_literal_and_accent_rules(pg_library: Library) -> None:
    for name in ("Café 100%.jpg", "cafe 1000.jpg", "snake_case.jpg", "snakeXcase.jpg"):
        pg_library.add(io.BytesIO(JPEG), name)

    def found(term: str) -> list[str]:
        return sorted(r.filename for r in pg_library.list_images(search=term).items)

    assert found("100%") == ["Café 100%.jpg"]
    assert found("0%") == ["Café 100%.jpg"]
    assert found("e_c") == ["snake_case.jpg"]
    assert found("CAFÉ") == ["Café 100%.jpg", "cafe 1000.jpg"]
    assert found("cafe") == ["Café 100%.jpg", "cafe 1000.jpg"]
    assert pg_library.list_images(search="100%").total == 1
    assert found("%") == ["Café 100%.jpg"]  # short terms scan: the same rule


def test_only_one_library_does_a_singleton_chore_at_a_time(two: tuple[Library, Library]) -> None:
    first, second = two
    with first.core.singleton("a chore") as mine:
        assert mine
        with second.core.singleton("a chore") as theirs:
            assert not theirs
        with second.core.singleton("another chore") as other:
            assert other
    with second.core.singleton("a chore") as now_theirs:
        assert now_theirs


def test_processes_opening_a_new_database_together_migrate_it_once(
    pg_url: str, tmp_path: Path
) -> None:
    opened: list[Library] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def open_one(n: int) -> None:
        try:
            lib = Library.open_team(pg_url, folder_storage(tmp_path / "team"))
            with guard:
                opened.append(lib)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    try:
        assert not errors
        assert len(opened) == 4
        with opened[0].engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        assert versions == [(head_revision(),)]
    finally:
        for lib in opened:
            lib.close()


def test_an_unreachable_database_is_a_storage_error_in_words(
    pg_server: PgServer, tmp_path: Path
) -> None:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none"  # nothing listens there
    with pytest.raises(StorageError, match="refused the connection"):
        Library.open_team(url, folder_storage(tmp_path / "team"))
    missing = pg_server.url("no_such_database")
    with pytest.raises(StorageError, match="does not exist"):
        Library.open_team(missing, folder_storage(tmp_path / "team"))


def test_a_database_without_byte_order_is_refused_with_the_command(
    pg_server: PgServer, tmp_path: Path
) -> None:
    import psycopg

    name = pg_server.unique_name("wrong")
    with psycopg.connect(
        host=pg_server.host,
        port=pg_server.port,
        user="imageshelf",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(
            f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu "
            "ICU_LOCALE 'en-US' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'"
        )
    try:
        with pytest.raises(StorageError, match="LC_COLLATE 'C'"):
            Library.open_team(pg_server.url(name), folder_storage(tmp_path / "team"))
    finally:
        pg_server.drop_database(name)
