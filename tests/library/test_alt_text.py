"""Alt text: ``None`` (not described yet) and ``""`` (decorative) are different and stay
so; at most 2,000 characters; no control characters; any language."""

from __future__ import annotations

import io

import pytest

from imageshelf.app.library import InvalidAltText, Library
from tests.conftest import image_bytes

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

JPEG = image_bytes("JPEG")


@pytest.mark.parametrize("alt", [None, "", "A red square.", "x" * 2000])
def test_alt_text_round_trips_through_reopen(library_path, alt) -> None:
    with Library.open(library_path) as lib:
        image_id = lib.add(io.BytesIO(JPEG), "a.jpg", alt_text=alt).id
        assert lib.get(image_id).alt_text == alt
    with Library.open(library_path) as lib:
        assert lib.get(image_id).alt_text == alt
        assert lib.get(image_id).needs_alt_text is (alt is None)


@pytest.mark.parametrize(
    "alt",
    ["Ünïcødé É é ß", "😀 👨‍👩‍👧 emoji", "עברית ועוד", "中文说明", "line one\nline two\tand a tab"],
)
def test_unicode_and_whitespace_are_kept(add, alt) -> None:
    assert add(JPEG, alt_text=alt).alt_text == alt


def test_line_endings_become_newlines(add) -> None:
    assert add(JPEG, alt_text="a\r\nb\rc").alt_text == "a\nb\nc"


@pytest.mark.parametrize(
    ("alt", "why"),
    [
        ("x" * 2001, "2,000"),
        ("bell\x07", "control"),
        ("nul\x00", "control"),
        ("escape\x1b[31m", "control"),
    ],
)
def test_bad_alt_text_is_refused_on_add_and_update(library, add, refused, alt, why) -> None:
    err = refused(JPEG, "a.jpg", alt_text=alt)
    assert err.code == "invalid_alt_text"
    assert why in err.message.replace("2000", "2,000")
    rec = add(JPEG, alt_text="kept")
    with pytest.raises(InvalidAltText):
        library.update(rec.id, alt_text=alt)
    assert library.get(rec.id).alt_text == "kept"


@pytest.mark.parametrize("alt", [42, b"bytes", ["x"]])
def test_alt_text_that_is_not_text_is_refused(refused, alt) -> None:
    assert refused(JPEG, "a.jpg", alt_text=alt).code == "invalid_alt_text"


def test_update_switches_between_undescribed_decorative_and_described(library, add) -> None:
    rec = add(JPEG)
    assert library.update(rec.id, alt_text="").alt_text == ""
    assert library.update(rec.id, alt_text="now described").alt_text == "now described"
    assert library.update(rec.id, alt_text=None).alt_text is None
    assert library.get(rec.id).alt_text is None


def test_unpaired_surrogates_are_refused_not_a_crash(library, add, refused) -> None:
    """JSON can carry "\\ud800"; it is not text and cannot be stored as UTF-8."""
    assert refused(JPEG, "a.jpg", alt_text="a\ud800b").code == "invalid_alt_text"
    rec = add(JPEG)
    with pytest.raises(InvalidAltText):
        library.update(rec.id, alt_text="\udfff")
