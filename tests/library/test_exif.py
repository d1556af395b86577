"""EXIF read once when an image comes in — upload/import, adoption from disk, an outside
edit, and the background fill for rows older than the columns — from camera-like files
and from hostile blocks, which give nulls and never an error."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from imageshelf.app.library import (
    Event,
    EventKind,
    ImageRecord,
    Library,
    Sort,
    exif_facts,
    exif_fill,
)
from imageshelf.app.library.exif_facts import NO_EXIF
from imageshelf.app.library.filters import Filter
from imageshelf.app.library.layout import DB_FILE, META_DIR
from imageshelf.app.library.sql import listing
from imageshelf.app.library.sql.engine import make_engine, upgrade
from tests.exif_samples import (
    camera_image,
    camera_jpeg,
    hostile_blocks,
    jpeg_with_app1,
    plain_jpeg,
    xmp_gps,
)
from tests.library.helpers import on_disk

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

AddBytes = Callable[..., ImageRecord]


def test_a_camera_jpeg_gives_every_fact(add: AddBytes) -> None:
    rec = add(camera_jpeg(subsec="12", gps=(48.8582, 2.2945, 35.0)))
    facts = rec.exif
    assert (facts.make, facts.model, facts.lens_model) == (
        "Canon",
        "Canon EOS R5",
        "RF24-105mm F4 L IS USM",
    )
    assert facts.taken_at_text == "2026-04-23T10:00:00.12+02:00"
    assert (facts.exposure_time, facts.f_number, facts.iso, facts.focal_length_mm) == (
        "1/250",
        2.8,
        400,
        50.0,
    )
    assert facts.orientation == 1
    assert facts.has_location
    assert facts.latitude == pytest.approx(48.8582, abs=1e-6)
    assert facts.longitude == pytest.approx(2.2945, abs=1e-6)
    assert facts.altitude_m == 35.0
    assert facts.camera == "Canon EOS R5"  # the model already names the make


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_carry_the_same_facts(add: AddBytes, fmt: str) -> None:
    rec = add(camera_image(fmt, gps=(-33.8568, -151.2153, -4.5)), name=f"x.{fmt.lower()}")
    assert rec.exif.model == "Canon EOS R5"
    assert rec.exif.taken_at_text == "2026-04-23T10:00:00+02:00"
    # South and west are negative; below sea level too.
    assert rec.exif.latitude == pytest.approx(-33.8568, abs=1e-6)
    assert rec.exif.longitude == pytest.approx(-151.2153, abs=1e-6)
    assert rec.exif.altitude_m == -4.5


def test_a_date_without_offset_is_a_local_time(add: AddBytes) -> None:
    rec = add(camera_jpeg(offset=None))
    assert rec.exif.taken_at_text == "2026-04-23T10:00:00"
    assert rec.exif.taken_offset_min is None


def test_negative_and_half_hour_offsets(add: AddBytes) -> None:
    assert add(camera_jpeg(offset="-05:00", seed=2)).exif.taken_at_text.endswith("-05:00")
    assert add(camera_jpeg(offset="+05:30", seed=3)).exif.taken_offset_min == 330


def test_orientation_is_kept_and_the_size_is_upright(add: AddBytes) -> None:
    rec = add(camera_jpeg(orientation=6))
    assert rec.exif.orientation == 6
    assert (rec.width, rec.height) == (32, 48)  # 48×32 pixels, turned a quarter


def test_long_exposures_read_as_photographers_write_them(add: AddBytes) -> None:
    assert add(camera_jpeg(exposure=(1, 2), seed=4)).exif.exposure_time == "0.5"
    assert add(camera_jpeg(exposure=(30, 1), seed=5)).exif.exposure_time == "30"
    assert add(camera_jpeg(exposure=(10, 2500), seed=6)).exif.exposure_time == "1/250"


def test_gps_only_in_xmp_is_read(add: AddBytes) -> None:
    rec = add(plain_jpeg(xmp=xmp_gps("48,51.4920N", "2,17.6700E", "3500/100")))
    assert rec.exif.make is None
    assert rec.exif.has_location
    assert rec.exif.latitude == pytest.approx(48.8582, abs=1e-6)
    assert rec.exif.longitude == pytest.approx(2.2945, abs=1e-6)
    assert rec.exif.altitude_m == 35.0


def test_gps_in_xmp_with_seconds_south_west_and_below_sea(add: AddBytes) -> None:
    rec = add(plain_jpeg(xmp=xmp_gps("33,51,24.48S", "151,12,55.08W", "12", ref="1")))
    assert rec.exif.latitude == pytest.approx(-33.8568, abs=1e-6)
    assert rec.exif.longitude == pytest.approx(-151.2153, abs=1e-6)
    assert rec.exif.altitude_m == -12.0


def test_exif_gps_wins_over_xmp(add: AddBytes) -> None:
    rec = add(camera_jpeg(gps=(10.0, 20.0, None), xmp=xmp_gps("48,51.4920N", "2,17.6700E")))
    assert (rec.exif.latitude, rec.exif.longitude) == (10.0, 20.0)
    assert rec.exif.altitude_m is None


def test_a_file_without_exif_has_no_facts(add: AddBytes) -> None:
    assert add(plain_jpeg()).exif == NO_EXIF


@pytest.mark.parametrize("name", list(hostile_blocks()))
def test_hostile_exif_gives_nulls_not_an_error(add: AddBytes, name: str) -> None:
    rec = add(jpeg_with_app1(hostile_blocks()[name]))
    facts = rec.exif
    assert facts.make is None and facts.model is None and facts.taken_at_us is None
    assert facts.exposure_time is None and facts.f_number is None
    assert not facts.has_location
    if name == "zero denominators and nonsense dates":
        assert facts.orientation == 3  # the one sane field stays
        assert facts.taken_offset_min is None


def test_facts_survive_the_trash_and_back(library: Library, add: AddBytes) -> None:
    rec = add(camera_jpeg(gps=(1.5, 2.5, 3.0)))
    library.delete(rec.id)
    restored = library.trash.restore(rec.id)
    assert restored.exif == rec.exif


def test_adopted_files_are_read(library: Library) -> None:
    (library.root / "dropped.jpg").write_bytes(camera_jpeg(seed=9, iso=3200))
    library.reconcile()
    (adopted,) = library.list_images().items
    assert adopted.exif.iso == 3200


def test_an_outside_edit_is_read_again(library: Library, add: AddBytes) -> None:
    rec = add(camera_jpeg(model="Old Model"))
    path = on_disk(library, rec)
    path.write_bytes(camera_jpeg(seed=2, model="New Model", make="Nikon"))
    os.utime(path, ns=(1, 1))  # a different mtime whatever the clock's resolution
    library.reconcile()
    assert library.get(rec.id).exif.model == "New Model"
    path.write_bytes(plain_jpeg(seed=3))
    os.utime(path, ns=(2, 2))
    library.reconcile()
    assert library.get(rec.id).exif == NO_EXIF  # EXIF removed by the edit: gone here too


def _forget_exif(library: Library) -> None:
    """The rows as migration 0009 leaves older ones: nothing read yet."""
    columns = ", ".join(f"{c} = NULL" for c in (*exif_facts.COLUMNS, "exif_read"))
    with library.engine.begin() as conn:
        conn.execute(text(f"UPDATE images SET {columns}"))


def test_the_background_fill_reads_older_rows_once(library: Library, add: AddBytes) -> None:
    with_exif = add(camera_jpeg(gps=(1.0, 2.0, None)))
    without = add(plain_jpeg(seed=5))
    # The housekeeper's own round (started at open) is over: only this fill reads them.
    assert library.wait_housekeeping(30)
    _forget_exif(library)
    assert library.get(with_exif.id).exif == NO_EXIF
    seen: list[Event] = []
    library.subscribe(seen.append)
    updated_before = library.get(with_exif.id).updated_at_us
    assert exif_fill.fill(library.core, lambda: False, batch=1) == 2
    filled = library.get(with_exif.id)
    assert filled.exif == with_exif.exif
    assert filled.updated_at_us == updated_before  # the file said it all along
    # Announced for the image whose file had something to say, so views re-sort.
    assert [(e.kind, e.image_id) for e in seen] == [(EventKind.UPDATED, with_exif.id)]
    assert library.get(without.id).exif == NO_EXIF
    assert exif_fill.fill(library.core, lambda: False) == 0  # read once


def test_the_fill_stops_when_asked_and_skips_missing_files(library: Library, add: AddBytes) -> None:
    a = add(camera_jpeg(seed=1))
    b = add(camera_jpeg(seed=2))
    _forget_exif(library)
    assert exif_fill.fill(library.core, lambda: True) == 0
    moved = on_disk(library, a)
    aside = library.root.parent / "aside.jpg"
    shutil.move(moved, aside)
    assert exif_fill.fill(library.core, lambda: False) == 1  # b; a is not there now
    shutil.move(aside, moved)
    assert exif_fill.fill(library.core, lambda: False) == 1  # a, at the next pass
    assert library.get(a.id).exif.model == library.get(b.id).exif.model == "Canon EOS R5"


def test_opening_a_library_fills_in_the_background(library_path: Path) -> None:
    with Library.open(library_path) as lib:
        rec = lib.add(io.BytesIO(camera_jpeg()), "a.jpg")
        _forget_exif(lib)
    with Library.open(library_path) as lib:
        done = lib.wait_housekeeping(timeout=30)
        assert done
        assert lib.get(rec.id).exif.model == "Canon EOS R5"


# --- sort=taken -----------------------------------------------------------------------------


def test_sort_taken_newest_first_ties_and_missing_last(library: Library, add: AddBytes) -> None:
    a = add(camera_jpeg(seed=1, taken="2026:01:01 10:00:00", offset="+02:00"))
    undated_old = add(plain_jpeg(seed=2))
    c = add(camera_jpeg(seed=3, taken="2025:06:01 08:00:00"))
    # Same wall clock as a, another offset: offsets are ignored, so a tie, newest first.
    b = add(camera_jpeg(seed=4, taken="2026:01:01 10:00:00", offset="-05:00"))
    undated_new = add(plain_jpeg(seed=5))
    d = add(camera_jpeg(seed=6, taken="2026:01:01 10:00:00", subsec="5"))  # later by 0.5 s
    expected = [d.id, b.id, a.id, c.id, undated_new.id, undated_old.id]
    got = [r.id for r in library.list_images(sort="taken").items]
    assert got == expected
    # The grid's key agrees with the SQL, and every page (both ends) with the whole.
    records = [library.get(i) for i in reversed(expected)]
    assert [r.id for r in sorted(records, key=Sort.TAKEN.key())] == expected
    paged = [
        library.list_images(sort=Sort.TAKEN, page=p, page_size=1).items[0].id for p in range(1, 7)
    ]
    assert paged == expected
    in_folder = library.list_images(sort="taken", folder=None).items
    assert [r.id for r in in_folder] == expected


def test_a_library_from_before_0009_is_read_in_the_background(tmp_path: Path) -> None:
    """Made at 0008 with a camera photo in it: opening migrates without reading the file
    (the row has no facts yet), then the housekeeping fill reads it."""
    root = tmp_path / "old"
    (root / META_DIR).mkdir(parents=True)
    engine = make_engine(root / META_DIR / DB_FILE)
    upgrade(engine, "0008")
    data = camera_jpeg(gps=(1.25, 2.5, None))
    (root / "old.jpg").write_bytes(data)
    stat = (root / "old.jpg").stat()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO images (id, folder, filename, original_filename, content_type, "
                "size, width, height, sha256, mtime_ns, alt_text, search_text, created_at, "
                "updated_at) VALUES ('img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B', '', 'old.jpg', "
                "'old.jpg', 'image/jpeg', :s, 48, 32, :h, :m, NULL, 'old.jpg', 1, 1)"
            ),
            {"s": stat.st_size, "h": hashlib.sha256(data).hexdigest(), "m": stat.st_mtime_ns},
        )
    engine.dispose()
    with Library.open(root) as lib:
        assert lib.wait_housekeeping(timeout=30)
        facts = lib.get("img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B").exif
        assert facts.model == "Canon EOS R5"
        assert (facts.latitude, facts.longitude) == (1.25, 2.5)
        with lib.engine.connect() as conn:
            assert conn.execute(text("SELECT exif_read FROM images")).scalar() == 1


@pytest.mark.folder_only  # SQLite's query plan
def test_sort_taken_walks_its_index(library: Library) -> None:
    """Newest taken first, whole library or one folder, straight off an index: no sort of
    every row (what keeps a page at 100,000 images within the query targets)."""
    for flt in (Filter(), Filter(folder="a")):
        where, params = listing.where_clause(flt)
        sql = (
            f"EXPLAIN QUERY PLAN SELECT pk FROM images{where} "
            f"ORDER BY {listing._ORDER[Sort.TAKEN]} LIMIT 25"
        )
        with library.engine.connect() as conn:
            plan = " ".join(str(r[-1]) for r in conn.execute(text(sql), params))
        assert "TEMP B-TREE" not in plan, plan
        assert "COVERING INDEX" in plan and "taken_order" in plan, plan  # no row read


@pytest.mark.parametrize(("fmt", "name"), [("HEIF", "x.heic"), ("AVIF", "x.avif")])
def test_heic_and_avif_exif_is_read_from_their_containers(
    add: AddBytes, fmt: str, name: str
) -> None:
    rec = add(camera_image(fmt, gps=(1.5, 2.5, 3.0)), name=name)
    assert rec.exif.model == "Canon EOS R5"
    assert rec.exif.taken_at_text == "2026-04-23T10:00:00+02:00"
    assert (rec.exif.latitude, rec.exif.longitude, rec.exif.altitude_m) == (1.5, 2.5, 3.0)


@pytest.mark.parametrize(
    ("fmt", "ctype"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("WEBP", "image/webp"),
        ("HEIF", "image/heic"),
    ],
)
def test_an_open_file_reads_as_its_path_does(tmp_path: Path, fmt: str, ctype: str) -> None:
    """An upload's texts and facts are read from the file already open for its decode
    (``intake.prepare_file``): the same answer as from its path, wherever the open file
    was left, and the file stays open for its owner."""
    from imageshelf.app.library import exif_read
    from tests.library.xmp_samples import alt_text, xmp_packet

    if fmt == "JPEG":
        data = camera_jpeg(gps=(1.5, 2.5, 3.0), xmp=xmp_packet(alt_text("A kite")))
    else:
        data = camera_image(fmt, gps=(1.5, 2.5, 3.0))
    path = tmp_path / "photo"
    path.write_bytes(data)
    by_path = exif_read.texts_and_facts(path, ctype)
    with open(path, "rb") as fp:
        fp.seek(len(data) // 2)  # a decode leaves it anywhere
        by_file = exif_read.texts_and_facts(fp, ctype)
        assert not fp.closed
    assert by_file == by_path
    assert by_path[1].model == "Canon EOS R5"
    assert by_path[1].latitude == 1.5
    if fmt == "JPEG":
        assert by_path[0].alt_text == "A kite"
