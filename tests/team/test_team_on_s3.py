"""The whole team library: PostgreSQL for the rows, an S3-compatible store (moto's
server, tests/s3_server.py) for the bytes; two Library objects stand in for two
processes."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from imageshelf.app.library import Event, EventKind, Library, storage_from_url
from tests.conftest import image_bytes
from tests.s3_server import S3Server, s3_bucket, s3_server

__all__ = ["s3_bucket", "s3_server"]


def test_an_upload_through_one_is_listed_and_read_by_the_other(
    pg_database: str, s3_bucket: str, s3_server: S3Server, tmp_path: Path
) -> None:
    url = f"s3://{s3_bucket}/team"
    first = Library.open_team(pg_database, storage_from_url(url, tmp_path / "a"))
    second = Library.open_team(pg_database, storage_from_url(url, tmp_path / "b"))
    heard = threading.Event()
    added_ids: list[str] = []

    def on(event: Event) -> None:
        if event.kind == EventKind.ADDED and event.image_id in added_ids:
            heard.set()

    second.subscribe(on)
    try:
        data = image_bytes("PNG", color=(1, 2, 3))
        rec = first.add(io.BytesIO(data), "shared.png", alt_text="Shared", folder="team a")
        added_ids.append(rec.id)
        assert heard.wait(10) or rec.id in {r.id for r in second.list_images().items}
        (listed,) = second.list_images(folder="team a").items
        assert (listed.id, listed.alt_text) == (rec.id, "Shared")
        _rec, stream = second.open_original(listed.id)
        with stream:
            assert stream.read() == data
        _rec, thumb = second.thumbnail(listed.id)  # made and kept in the store's derived keys
        with thumb.open() as f:
            assert len(f.read()) == thumb.size > 0
        assert second.list_images(search="shared").total == 1
    finally:
        second.close()
        first.close()
