"""Uploads that reach their commit together through a live waitress server share one
commit (``group_commit.py``): the same name sent by several clients at once gets a free
name each, idempotency keys keep answering each request alone (a racing retry is 409,
a retry after is replayed), and one upload refused at the commit costs none of the
others. The uploads are held at the commit by the write lock until all are queued, so
the batch is the same on every run."""

from __future__ import annotations

import threading

from imageshelf.app.library import Library, group_commit
from imageshelf.server import BackgroundServer
from tests.conftest import image_bytes
from tests.server.http_helpers import TOKEN, HttpApi, Reply
from tests.waiting import wait_for


def _jpeg(n: int) -> bytes:
    return image_bytes("JPEG", (30 + n, 20), color=(n * 30 % 256, 100, 180))


def test_concurrent_uploads_share_a_commit_and_keep_their_own_answers(library: Library) -> None:
    (library.root / "a-file").write_bytes(b"not a folder")
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    queue = group_commit.queue_of(library.core)
    try:
        # (key, folder) per upload, all of one name; None: no key.
        sends: list[tuple[str | None, str | None]] = [
            ("key-1", None),
            ("key-2", None),
            (None, None),
            (None, "trip"),
            ("key-5", "a-file"),  # refused at the commit: a file is in the way
            ("key-6", "trip"),
        ]
        answers: dict[int, Reply] = {}

        def send(i: int) -> None:
            key, folder = sends[i]
            headers = {"Idempotency-Key": key} if key else {}
            answers[i] = HttpApi(server.base_url).upload(
                _jpeg(i), "photo.jpg", folder=folder, headers=headers
            )

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(sends))]
        batches = queue.batches
        with library.settled():  # the write lock: every upload waits at the commit
            for t in threads:
                t.start()
            wait_for(lambda: queue.waiting() == len(sends), "every upload at the commit")
            # A retry racing its first request is told so at once, not queued.
            racing = HttpApi(server.base_url).upload(
                _jpeg(0), "photo.jpg", headers={"Idempotency-Key": "key-1"}
            )
            assert (racing.status, racing.error_code) == (409, "idempotency_in_progress")
        for t in threads:
            t.join(60)
        assert queue.batches == batches + 1

        assert (answers[4].status, answers[4].error_code) == (400, "invalid_folder")
        made = {i: a.json() for i, a in answers.items() if i != 4}
        assert all(answers[i].status == 201 for i in made), {i: a.body for i, a in answers.items()}
        assert sorted(m["filename"] for i, m in made.items() if m["folder"] is None) == [
            "photo-2.jpg",
            "photo-3.jpg",
            "photo.jpg",
        ]
        assert sorted(m["filename"] for i, m in made.items() if m["folder"] == "trip") == [
            "photo-2.jpg",
            "photo.jpg",
        ]
        api = HttpApi(server.base_url)
        for i, body in made.items():
            assert api.get(f"/v3/images/{body['id']}").json() == body
            assert api.get(f"/i/{body['id']}", auth=False).body == _jpeg(i)
        assert int(api.get("/v3/images").json()["total"]) == 5

        # Each key answers its own request again; the refused one may be sent again.
        for i in (0, 1, 5):
            key, folder = sends[i]
            again = api.upload(
                _jpeg(i), "photo.jpg", folder=folder, headers={"Idempotency-Key": key}
            )
            assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
            assert again.json() == made[i]
        retried = api.upload(_jpeg(4), "photo.jpg", headers={"Idempotency-Key": "key-5"})
        assert retried.status == 201 and "Idempotent-Replayed" not in retried.headers
        assert list(library.tmp_dir.iterdir()) == []
    finally:
        server.stop()
