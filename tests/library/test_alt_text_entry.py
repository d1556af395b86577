"""IPTC alt text read at entry: upload/add, import, adoption at open and by the watcher,
an outside edit of an undescribed image. A caption alone never becomes alt text."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from imageshelf.app.library import EventKind, Library, rules
from imageshelf.app.library.errors import InvalidLongDescription
from imageshelf.app.library.importer import ImportSession, collect
from tests.library.test_watcher_support import EventLog, added_at, from_disk
from tests.library.xmp_samples import alt_text, caption, lang_alt, make, xmp_packet

DESCRIBED = xmp_packet(
    alt_text("A kite over the dunes"),
    lang_alt("Iptc4xmpCore:ExtDescrAccessibility", ("x-default", "A red kite, long tail.")),
)
CAPTION_ONLY = xmp_packet(
    caption("Holiday 2026"), "<photoshop:Headline>Kites!</photoshop:Headline>"
)


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp-extended"])
def test_add_takes_alt_text_and_long_description_from_the_file(library: Library, kind: str) -> None:
    record = library.add(io.BytesIO(make(kind, DESCRIBED)), "kite.img")
    assert record.alt_text == "A kite over the dunes"
    assert record.long_description == "A red kite, long tail."
    assert library.get(record.id) == record
    assert library.list_images(search="dunes").total == 1  # searchable like typed alt text


def test_a_caption_alone_is_not_alt_text(library: Library) -> None:
    record = library.add(io.BytesIO(make("jpeg", CAPTION_ONLY)), "holiday.jpg")
    assert record.alt_text is None and record.long_description is None


def test_given_alt_text_wins_and_decorative_counts_as_given(library: Library) -> None:
    typed = library.add(io.BytesIO(make("jpeg", DESCRIBED, seed=2)), "a.jpg", alt_text="Mine")
    assert typed.alt_text == "Mine"
    assert typed.long_description == "A red kite, long tail."  # not given: from the file
    decorative = library.add(io.BytesIO(make("jpeg", DESCRIBED, seed=3)), "b.jpg", alt_text="")
    assert decorative.alt_text == ""


def test_import_fills_alt_text(library: Library, tmp_path: Path) -> None:
    src = tmp_path / "incoming"
    src.mkdir()
    (src / "described.jpg").write_bytes(make("jpeg", DESCRIBED, seed=4))
    (src / "captioned.jpg").write_bytes(make("jpeg", CAPTION_ONLY, seed=5))
    report = ImportSession(library, collect([src])).run()
    by_name = {r.filename: r for r in report.added}
    assert by_name["described.jpg"].alt_text == "A kite over the dunes"
    assert by_name["captioned.jpg"].alt_text is None


def test_adoption_at_open_fills_alt_text(library_path: Path) -> None:
    Library.open(library_path).close()
    (library_path / "dropped.png").write_bytes(make("png", DESCRIBED, seed=6))
    with Library.open(library_path) as lib:
        [record] = lib.list_images().items
        assert record.alt_text == "A kite over the dunes"
        assert record.long_description == "A red kite, long tail."


def test_watcher_adoption_and_outside_edit_of_an_undescribed_image(
    watched: Library, log: EventLog
) -> None:
    (watched.root / "seen.webp").write_bytes(make("webp-extended", DESCRIBED, seed=7))
    adopted = log.wait_for(added_at("seen.webp")).image
    assert adopted is not None and adopted.alt_text == "A kite over the dunes"

    plain = watched.add(io.BytesIO(make("jpeg", seed=8)), "plain.jpg")
    described = watched.add(io.BytesIO(make("jpeg", seed=9)), "kept.jpg", alt_text="Typed here")
    # Another tool describes both files in place.
    for record, seed in ((plain, 10), (described, 11)):
        path = watched.path_of(record.folder, record.filename)
        path.write_bytes(make("jpeg", DESCRIBED, seed=seed))
    edited = log.wait_for(from_disk(EventKind.UPDATED, plain.id)).image
    assert edited is not None and edited.alt_text == "A kite over the dunes"
    kept = log.wait_for(from_disk(EventKind.UPDATED, described.id)).image
    assert kept is not None and kept.alt_text == "Typed here"


def test_long_description_rules(library: Library) -> None:
    record = library.add(io.BytesIO(make("gif")), "a.gif")
    limit = rules.MAX_LONG_DESCRIPTION_CHARS
    updated = library.update(record.id, long_description="x" * limit)
    assert updated.long_description == "x" * limit
    with pytest.raises(InvalidLongDescription) as info:
        library.update(record.id, long_description="x" * (limit + 1))
    assert info.value.code == "invalid_long_description"
    assert library.update(record.id, long_description=None).long_description is None
