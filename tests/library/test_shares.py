"""Share links in the core: what is stored (hashes, never the token or the password), how a
token opens its share, and which images a list or a live folder holds."""

from __future__ import annotations

import io
import sqlite3

import pytest

from imageshelf.app.library import Gone, InvalidInput, Library, NotFound, shares_secrets
from tests.conftest import image_bytes

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py


@pytest.mark.folder_only  # reads the SQLite file itself
def test_only_hashes_are_stored(library: Library) -> None:
    made = library.shares.create(folder=None, folder_share=True, password="s3cret pass")
    with sqlite3.connect(library.meta / "library.db") as conn:
        row = conn.execute("SELECT token_hash, password_hash FROM shares").fetchone()
    token_hash, password_hash = row
    assert token_hash == shares_secrets.token_hash(made.token) != made.token
    assert password_hash.startswith("scrypt$") and "s3cret" not in password_hash
    share = library.shares.open(made.token)
    assert library.shares.check_password(share, "s3cret pass")
    assert not library.shares.check_password(share, "s3cret pas")
    assert not library.shares.check_password(share, None)
    cookie = library.shares.session_value(share)
    assert library.shares.session_ok(share, cookie)
    assert not library.shares.session_ok(share, cookie[:-1] + ("1" if cookie[-1] == "0" else "0"))
    assert not library.shares.session_ok(share, None)


def test_two_hashes_of_one_password_differ(library: Library) -> None:
    first = shares_secrets.hash_password("same")
    assert first != shares_secrets.hash_password("same")  # a salt each
    assert shares_secrets.check_password("same", first)
    assert not shares_secrets.check_password("same", "md5$whatever")


def test_open_refuses_unknown_revoked_and_expired(library: Library) -> None:
    made = library.shares.create(folder=None, folder_share=True, expires_in=3600)
    assert library.shares.open(made.token).id == made.share.id
    with pytest.raises(NotFound):
        library.shares.open(made.token + "x")
    with library.core.write() as conn:
        conn.exec_driver_sql("UPDATE shares SET expires_at = 1")
    with pytest.raises(Gone):
        library.shares.open(made.token)
    library.shares.revoke(made.share.id)
    with pytest.raises(NotFound):
        library.shares.open(made.token)  # revoked outranks expired
    with pytest.raises(NotFound):
        library.shares.revoke(made.share.id)


def test_a_list_keeps_its_order_and_drops_deleted_images(library: Library) -> None:
    ids = [library.add(io.BytesIO(image_bytes(color=(n, 0, 0))), f"{n}.jpg").id for n in range(3)]
    made = library.shares.create(image_ids=[ids[2], ids[0], ids[1]])
    page = library.shares.images(made.share)
    assert [r.id for r in page.items] == [ids[2], ids[0], ids[1]]
    library.delete(ids[0])
    assert [r.id for r in library.shares.images(made.share).items] == [ids[2], ids[1]]
    assert library.shares.image_count(made.share) == 2
    with pytest.raises(Gone):
        library.shares.image(made.share, ids[0])


def test_bad_requests_make_nothing(library: Library) -> None:
    with pytest.raises(InvalidInput):
        library.shares.create(image_ids=["img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"], recursive=True)
    with pytest.raises(NotFound):
        library.shares.create(image_ids=["img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"])
    assert library.shares.active() == []
