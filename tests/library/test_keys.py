"""The core's API keys (``keys.py``) and folder limits (``folder_limit.py``): the rule
and its SQL agree, names/scopes/folders/expiry are checked, a busy library skips noting
a key's use instead of waiting."""

from __future__ import annotations

import io
import threading

import pytest

from imageshelf.app.library import KeyExists, Library, NotFound
from imageshelf.app.library.filters import Filter
from imageshelf.app.library.folder_limit import FolderLimit
from imageshelf.app.library.keys import InvalidKey
from tests.conftest import image_bytes

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

FOLDERS = [None, "a", "a/b", "a/b/c", "ab", "a0", "b", "b/a"]


def _fill(library: Library) -> None:
    for i, folder in enumerate(FOLDERS):
        for j in range(2):
            data = image_bytes("PNG", (10 + i, 10 + j), color=(i * 20, j * 50, 7))
            library.add(io.BytesIO(data), f"{i}-{j}.png", alt_text=f"kite {i}", folder=folder)


@pytest.mark.parametrize("limit", [("a",), ("a/b",), ("ab", "b/a"), ("b",), ("zzz",), ("a", "a/b")])
def test_the_sql_keeps_exactly_what_the_rule_allows(
    library: Library, limit: tuple[str, ...]
) -> None:
    _fill(library)
    within = FolderLimit(limit)
    every = library.list_images(page_size=100).items
    expected = {r.id for r in every if within.allows(r.folder)}
    assert {r.id for r in every if Filter(limit=within).matches(r)} == expected
    for search in (None, "kite", "ki"):
        page = library.list_images(page_size=100, within=within, search=search)
        assert {r.id for r in page.items} == expected
        assert page.total == len(expected)
    assert library.folders(within=within) == sorted(
        f for f in library.folders() if within.allows(f)
    )


def test_the_root_and_prefixes_are_outside() -> None:
    limit = FolderLimit(("a",))
    assert limit.allows("a") and limit.allows("a/b/c")
    assert not limit.allows(None) and not limit.allows("ab") and not limit.allows("a0")


def test_key_rules(library: Library) -> None:
    key, secret = library.keys.create("ok", "edit", ["/a/", "a", "b/c"], 2)
    assert key.folders == ("a", "b/c")  # normalised, without repeats
    assert key.grants == {"read", "upload", "edit"}
    assert library.keys.verify(secret) == key
    assert library.keys.verify(secret + "x") is None
    assert library.keys.verify("not-a-key") is None
    with pytest.raises(KeyExists):
        library.keys.create("ok", "read")
    for name, scope, folders, days in (
        ("", "read", None, None),
        ("a/b", "read", None, None),
        ("x" * 65, "read", None, None),
        ("n", "write", None, None),
        ("n", "admin", ["a"], None),
        ("n", "read", ["a/../b"], None),
        ("n", "read", "a", None),
        ("n", "read", None, 0),
        ("n", "read", None, True),
        ("n", "read", None, 3651),
    ):
        with pytest.raises(Exception) as caught:
            library.keys.create(name, scope, folders, days)
        assert caught.value.code in (InvalidKey.code, "invalid_folder"), (name, scope)
    assert [k.name for k in library.keys.list()] == ["ok"]
    library.keys.revoke("ok")
    assert library.keys.verify(secret) is None
    with pytest.raises(NotFound):
        library.keys.revoke("ok")


def test_a_busy_library_skips_noting_use_instead_of_waiting(library: Library) -> None:
    # The background rounds at open (trash purge, housekeeping) write too: over first, so
    # the only writer holding the lock below is the test's.
    assert library.trash.wait_for_retention(30) and library.wait_housekeeping(30)
    _key, secret = library.keys.create("k", "read")
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with library.core.write_lock:
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        assert library.keys.verify(secret) is not None  # answered while the lock is held
        assert library.keys.get("k").last_used_at_us is None
    finally:
        release.set()
        holder.join(30)
    library.keys.verify(secret)  # the skipped note is made at the next use
    assert library.keys.get("k").last_used_at_us is not None
