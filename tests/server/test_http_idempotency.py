"""The contract's "Idempotency keys" through the Flask client and a live waitress
server: replays, reuse with other content, a first request still running, answers not
kept, retries across a restart of the server and library, and racing retries."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer, create_app
from tests.conftest import image_bytes
from tests.server.http_helpers import TOKEN, Api, FlaskApi, HttpApi, Reply

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

KEY = {"Idempotency-Key": "3f6c2a9e-upload-1"}


def _png(n: int) -> bytes:
    return image_bytes("PNG", (22, 18), color=(n * 45 % 256, 130, 60))


def _total(api: Api) -> int:
    return int(api.get("/v3/images").json()["total"])


def test_a_retry_gets_the_same_answer_and_changes_nothing(api: Api) -> None:
    first = api.upload(_png(1), "kite.png", alt_text="A kite", headers=KEY)
    assert first.status == 201 and "Idempotent-Replayed" not in first.headers
    again = api.upload(_png(1), "kite.png", alt_text="A kite", headers=KEY)
    assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert _total(api) == 1
    # The same key as a form field (seed 004) is the same key.
    field = api.request(
        "POST",
        "/v3/images",
        files={"file": ("kite.png", _png(1))},
        form={"alt_text": "A kite", "idempotency_key": KEY["Idempotency-Key"]},
    )
    assert field.status == 201 and field.headers["Idempotent-Replayed"] == "true"
    assert _total(api) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"content": _png(2)},
        {"filename": "other.png"},
        {"alt_text": "Another kite"},
        {"folder": "birds"},
    ],
)
def test_the_same_key_with_other_content_is_422(api: Api, change: dict[str, object]) -> None:
    assert api.upload(_png(1), "kite.png", alt_text="A kite", headers=KEY).status == 201
    args: dict[str, object] = {"content": _png(1), "filename": "kite.png", "alt_text": "A kite"}
    args.update(change)
    content, filename = args.pop("content"), args.pop("filename")
    reply = api.upload(content, filename, headers=KEY, **args)  # type: ignore[arg-type]
    assert (reply.status, reply.error_code) == (422, "idempotency_key_reused")
    assert _total(api) == 1


def test_a_400_is_not_kept_so_the_key_can_be_used_again(api: Api, library: Library) -> None:
    bad = api.upload(b"\x89PNG\r\n\x1a\n broken", "broken.png", headers=KEY)
    assert bad.status == 400
    good = api.upload(_png(3), "fixed.png", headers=KEY)  # other content: not a 422
    assert good.status == 201 and "Idempotent-Replayed" not in good.headers
    assert list(library.tmp_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("headers", "form"),
    [
        ({"Idempotency-Key": ""}, {}),
        ({"Idempotency-Key": "k" * 256}, {}),
        ({}, {"idempotency_key": "clé"}),
        ({"Idempotency-Key": "one"}, {"idempotency_key": "two"}),
    ],
)
def test_bad_keys_are_400(
    api: Api, library: Library, headers: dict[str, str], form: dict[str, str]
) -> None:
    reply = api.request(
        "POST", "/v3/images", files={"file": ("a.png", _png(4))}, form=form, headers=headers
    )
    assert (reply.status, reply.error_code) == (400, "invalid_idempotency_key")
    assert _total(api) == 0 and list(library.tmp_dir.iterdir()) == []


def test_keys_are_kept_per_api_key(library: Library) -> None:
    one = FlaskApi(create_app(library, token=TOKEN).test_client())
    assert one.upload(_png(5), "a.png", headers=KEY).status == 201
    other_app = create_app(library, token="another-token-1234")
    other = other_app.test_client()
    reply = other.post(
        "/v3/images",
        headers={"Authorization": "Bearer another-token-1234", **KEY},
        data={"file": (__import__("io").BytesIO(_png(6)), "b.png")},
    )
    assert reply.status_code == 201 and "Idempotent-Replayed" not in reply.headers


def test_bulk_delete_replays_its_first_answer(api: Api) -> None:
    a = api.upload_ok(_png(7), "a.png")["id"]
    body = {"image_ids": [a]}
    first = api.request("POST", "/v3/images/bulk_delete", json_body=body, headers=KEY)
    assert first.json() == {"deleted": [a], "already_deleted": [], "not_found": []}
    again = api.request("POST", "/v3/images/bulk_delete", json_body=body, headers=KEY)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    in_body = api.request(
        "POST",
        "/v3/images/bulk_delete",
        json_body={**body, "idempotency_key": KEY["Idempotency-Key"]},
    )
    assert in_body.headers["Idempotent-Replayed"] == "true"
    other = api.request(
        "POST", "/v3/images/bulk_delete", json_body={"image_ids": [a, a]}, headers=KEY
    )
    assert (other.status, other.error_code) == (422, "idempotency_key_reused")


def _claims(library: Library) -> list[tuple[str, int | None]]:
    with library.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT key, status FROM idempotency_keys"))]  # type: ignore[misc]


def _wait_for(condition: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_retry_while_the_first_runs_is_409(api: Api, library: Library) -> None:
    answers: list[Reply] = []
    with library.settled():  # the first gets its claim, then waits to commit
        first = threading.Thread(
            target=lambda: answers.append(api.upload(_png(8), "slow.png", headers=KEY))
        )
        first.start()
        _wait_for(lambda: _claims(library) == [(KEY["Idempotency-Key"], None)])
        during = api.upload(_png(8), "slow.png", headers=KEY)
        assert (during.status, during.error_code) == (409, "idempotency_in_progress")
    first.join(60)
    assert answers[0].status == 201
    after = api.upload(_png(8), "slow.png", headers=KEY)
    assert after.headers["Idempotent-Replayed"] == "true" and after.json() == answers[0].json()
    assert _total(api) == 1


def test_racing_retries_make_one_image(library: Library) -> None:
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=TOKEN).start()
    try:
        answers: list[Reply] = []
        go = threading.Barrier(6)

        def send() -> None:
            client = HttpApi(server.base_url)
            go.wait(30)
            answers.append(client.upload(_png(9), "race.png", headers=KEY))

        threads = [threading.Thread(target=send) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = sorted(a.status for a in answers)
        assert len(answers) == 6 and set(statuses) <= {201, 409}
        made = {a.json()["id"] for a in answers if a.status == 201}
        assert len(made) == 1
        assert (
            sum(1 for a in answers if a.status == 201 and "Idempotent-Replayed" not in a.headers)
            == 1
        )
        assert library.count() == 1
    finally:
        server.stop()


def test_retries_survive_a_restart(library_path: Path) -> None:
    lib = Library.open(library_path)
    server = BackgroundServer(lib, host="127.0.0.1", port=0, token=TOKEN).start()
    first = HttpApi(server.base_url).upload(_png(10), "kept.png", headers=KEY)
    assert first.status == 201
    # A request killed mid-way leaves an unfinished claim: dropped at the next open.
    with lib.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO idempotency_keys (principal, key, endpoint, fingerprint, "
                "created_at) SELECT principal, 'killed', endpoint, 'x', created_at "
                "FROM idempotency_keys"
            )
        )
    server.stop()
    lib.close()
    lib = Library.open(library_path)
    server = BackgroundServer(lib, host="127.0.0.1", port=0, token=TOKEN).start()
    try:
        api = HttpApi(server.base_url)
        again = api.upload(_png(10), "kept.png", headers=KEY)
        assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"]
        killed = api.upload(_png(11), "new.png", headers={"Idempotency-Key": "killed"})
        assert killed.status == 201 and "Idempotent-Replayed" not in killed.headers
        assert lib.count() == 2
        # Kept at least 24 hours, then expired by the housekeeping.
        assert lib.idempotency.expire() == 0
        with lib.engine.begin() as conn:
            conn.execute(text("UPDATE idempotency_keys SET created_at = 0"))
        assert lib.idempotency.expire() == 2
        fresh = api.upload(_png(12), "fresh.png", headers=KEY)
        assert fresh.status == 201 and "Idempotent-Replayed" not in fresh.headers
    finally:
        server.stop()
        lib.close()
