"""``image_metadata`` carries its image's folder, created_at, id and whether it has no alt
text (migration 0014), its filename and taken_at (0018), and they stay in step with
``images`` through every write: upload, PATCH of metadata (merge, clear, set again), alt
text set and removed, a move, a folder renamed and moved, a file renamed outside, the
EXIF date read again after an outside edit (changed, removed), a delete to the trash and a
restore, a folder trashed and restored — and an older library's rows are filled when it
is upgraded (a folder library and a team library, PostgreSQL). After each step the table
is exactly what the images' rows say it should be (derived here in Python, not by the
triggers' SQL), and a ``meta.KEY=VALUE`` listing read from it (with and without
``undescribed``, in every sort, by page and by cursor) equals ``Filter.matches`` over
every image in ``Sort.key`` order."""

from __future__ import annotations

import io
import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from imageshelf.app.library import Library, Sort
from imageshelf.app.library.custom_metadata import MetaFilter
from imageshelf.app.library.filters import ALL_FOLDERS, Filter
from imageshelf.app.library.layout import DB_FILE, META_DIR
from imageshelf.app.library.sql import listing, meta_listing, meta_tags, sqlite_search
from imageshelf.app.library.sql.dialect import pg_number
from imageshelf.app.library.sql.engine import make_engine, upgrade
from tests.conftest import image_bytes
from tests.exif_samples import camera_jpeg, plain_jpeg
from tests.library.helpers import on_disk
from tests.pg_server import folder_storage

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

Row = tuple[int, str, str, object, str, int, str, int, str, int | None]


def _expected(conn: object) -> set[Row]:
    """What image_metadata must hold: one row per key of each image's object, with its
    kind (0008's rule), value (booleans 1/0) and the image's folder, created_at, id and
    whether it has no alt text, its filename and taken_at. On PostgreSQL ``value`` is text
    (migration 0008)."""
    pg = conn.dialect.name == "postgresql"  # type: ignore[attr-defined]
    out: set[Row] = set()
    images = conn.execute(  # type: ignore[attr-defined]
        text(
            "SELECT pk, folder, created_at, id, custom_metadata, alt_text, filename, taken_at "
            "FROM images"
        )
    )
    for pk, folder, created_at, image_id, meta, alt, name, taken in images:
        for key, value in json.loads(meta or "{}").items():
            if isinstance(value, bool):
                kind, value = "boolean", str(int(value)) if pg else int(value)
            elif isinstance(value, str):
                kind = "text"
            else:
                kind, value = "number", pg_number(value) if pg else value
            carried = (folder, created_at, image_id, int(alt is None), name, taken)
            out.add((pk, key, kind, value, *carried))
    return out


def _stored(conn: object) -> set[Row]:
    rows = conn.execute(  # type: ignore[attr-defined]
        text(
            "SELECT image_pk, key, kind, value, folder, created_at, id, undescribed, "
            "filename, taken_at FROM image_metadata"
        )
    ).all()
    assert len(rows) == len(set(map(tuple, rows)))
    return {(*r[:7], int(r[7]), r[8], r[9]) for r in rows}  # type: ignore[misc]


def _check(lib: Library, step: str) -> None:
    with lib.engine.connect() as conn:
        assert _stored(conn) == _expected(conn), step
    everything = lib.list_images(page_size=100).items
    for (key, value), undescribed in itertools.product(
        (("sku", "A"), ("n", "2"), ("print", "true"), ("new", "x")), (False, True)
    ):
        flt = Filter(meta=(MetaFilter.parse(key, value),), undescribed=undescribed)
        args = {"meta": {key: value}, "undescribed": undescribed}
        for sort in Sort:
            want = sorted((r for r in everything if flt.matches(r)), key=sort.key())
            got = lib.list_images(**args, sort=sort, page_size=100).items  # type: ignore[arg-type]
            assert [r.id for r in got] == [r.id for r in want], (step, flt, sort)
            walked = lib.list_by_cursor(**args, sort=sort, limit=100).items  # type: ignore[arg-type]
            assert [r.id for r in walked] == [r.id for r in want], (step, flt, sort)
    if lib.engine.dialect.name == "sqlite":
        # The triggers index each image's values' tags (from custom_metadata) exactly as
        # the view a rebuild reads says (from image_metadata; migration 0023): FTS5's
        # check against its content fails on any difference.
        with lib.engine.connect() as conn:
            conn.exec_driver_sql(
                "INSERT INTO images_fts(images_fts, rank) VALUES ('integrity-check', 1)"
            )
    with pytest.MonkeyPatch.context() as patch:
        # Every value common: a value with a term is found from the values' tags and the
        # term's cover in the trigram index (SQLite), or by a merge (PostgreSQL).
        patch.setattr(meta_listing, "META_RESOLVE_CAP", 0)
        for meta in ({"sku": "A"}, {"n": "2"}, {"print": "true", "sku": "A"}, {"new": "x"}):
            flt = Filter(meta=tuple(MetaFilter.parse(k, v) for k, v in meta.items()), search="png")
            for sort in Sort:
                want = sorted((r for r in everything if flt.matches(r)), key=sort.key())
                got = lib.list_images(meta=meta, search="png", sort=sort, page_size=100).items
                assert [r.id for r in got] == [r.id for r in want], (step, flt, sort)


def _add(lib: Library, n: int, folder: str | None, meta: dict[str, object]) -> str:
    prepared = lib.prepare(io.BytesIO(image_bytes("PNG", color=(n, 7, 7))), f"i{n}.png")
    return lib.commit(prepared, folder=folder, custom_metadata=meta).id


def test_the_carried_columns_follow_every_write(library: Library) -> None:
    lib = library
    a = _add(lib, 1, None, {"sku": "A", "n": 2, "print": True})
    b = _add(lib, 2, "x", {"sku": "A", "n": 2.0, "print": False})
    c = _add(lib, 3, "x/y", {"sku": "B", "n": "2"})
    _add(lib, 4, "x/y", {})
    _check(lib, "upload")

    lib.update(a, custom_metadata={"n": None, "new": "x"})  # PATCH: merged
    _check(lib, "patch merge")
    lib.update(a, alt_text="A kite")  # described
    _check(lib, "alt text")
    lib.update(a, alt_text=None)  # undescribed again
    _check(lib, "alt text removed")
    lib.update(c, alt_text="")  # decorative: described
    _check(lib, "alt text empty")
    lib.update(b, custom_metadata=None)  # PATCH: cleared
    _check(lib, "patch clear")
    lib.update(b, custom_metadata={"sku": "A", "new": "x"})  # set again
    _check(lib, "patch set again")

    lib.update(a, folder="x/y")  # a move
    _check(lib, "move")
    lib.update(c, folder="x", custom_metadata={"print": True})  # a move and a PATCH at once
    _check(lib, "move and patch")

    lib.rename_folder("x", "z")  # z, z/y
    _check(lib, "folder rename")
    lib.move_folder("z/y", None)  # y at the top
    _check(lib, "folder move")
    assert {r.folder for r in lib.list_images(meta={"sku": "A"}).items} == {"y", "z"}

    # A file renamed outside (found by a reconcile): the name order follows.
    moved = lib.get(c)
    on_disk(lib, moved).rename(on_disk(lib, moved).with_name("A-first.png"))
    lib.reconcile()
    assert lib.get(c).filename == "A-first.png"
    _check(lib, "renamed outside")
    # The EXIF date read again after an outside edit: set, changed, removed.
    d = lib.commit(
        lib.prepare(io.BytesIO(camera_jpeg(seed=5, taken="2020:01:02 03:04:05")), "cam.jpg"),
        folder="z",
        custom_metadata={"sku": "A", "print": True},
    )
    assert d.exif.taken_at_text is not None
    _check(lib, "taken at upload")
    for step, (data, mtime) in {
        "taken changed": (camera_jpeg(seed=6, taken="1999:12:31 23:59:59"), 1),
        "taken removed": (plain_jpeg(seed=7), 2),
    }.items():
        path = on_disk(lib, lib.get(d.id))
        path.write_bytes(data)
        os.utime(path, ns=(mtime, mtime))  # a different mtime whatever the clock's resolution
        lib.reconcile()
        _check(lib, step)
    assert lib.get(d.id).exif.taken_at_text is None

    lib.delete(a)
    _check(lib, "delete")
    with lib.engine.connect() as conn:
        held = conn.execute(text("SELECT COUNT(*) FROM image_metadata WHERE id = :i"), {"i": a})
        assert held.scalar_one() == 0
    lib.trash.restore(a)
    _check(lib, "restore")

    lib.trash_folder("y")
    _check(lib, "folder trashed")
    for item in lib.trash.items().items:
        lib.trash.restore(item.image.id)
    _check(lib, "folder restored")


def _library_at_0013(engine: Engine) -> None:
    """Three images as 0013's code wrote them (two with custom_metadata)."""
    upgrade(engine, "0013")
    metas = [{"sku": "A", "n": 1, "ok": True}, None, {"sku": "B", "f": 1.5}]
    with engine.begin() as conn:
        for i, meta in enumerate(metas):
            conn.execute(
                text(
                    "INSERT INTO images (id, folder, filename, original_filename, "
                    "content_type, size, width, height, sha256, mtime_ns, search_text, "
                    "created_at, updated_at, custom_metadata) VALUES (:id, :f, :n, :n, "
                    "'image/png', 1, 1, 1, 'x', 0, :n, :t, :t, :m)"
                ),
                {
                    "id": f"img_{i:026d}",
                    "f": ["", "a", "a/b"][i],
                    "n": f"{i}.png",
                    "t": 1000 - i,
                    "m": json.dumps(meta) if meta else None,
                },
            )
    engine.dispose()


def _check_filled(lib: Library) -> None:
    with lib.engine.connect() as conn:
        stored = _stored(conn)
        assert stored == _expected(conn)
    assert len(stored) == 5
    assert {r[4] for r in stored} == {"", "a/b"}
    assert [r.id for r in lib.list_images(meta={"sku": "B"}).items] == ["img_" + "0" * 25 + "2"]


def test_an_older_library_is_filled_on_upgrade(tmp_path: Path) -> None:
    root = tmp_path / "old"
    (root / META_DIR).mkdir(parents=True)
    _library_at_0013(make_engine(root / META_DIR / DB_FILE))
    with Library.open(root, reconcile=False) as lib:
        _check_filled(lib)


def test_an_older_team_library_is_filled_on_upgrade(pg_url: str, tmp_path: Path) -> None:
    _library_at_0013(make_engine(pg_url))
    with Library.open_team(pg_url, folder_storage(tmp_path / "team")) as lib:
        _check_filled(lib)


_INDEX_OF = {Sort.NEWEST: "order", Sort.OLDEST: "order", Sort.NAME: "name", Sort.TAKEN: "taken"}


@pytest.mark.folder_only  # SQLite's query plans
@pytest.mark.parametrize("sort", list(Sort))
@pytest.mark.parametrize("folder", [ALL_FOLDERS, "x"])
def test_a_meta_page_in_every_sort_walks_its_own_index(
    library: Library, sort: Sort, folder: object
) -> None:
    """However deep, a meta page in any sort is a walk of one covering index in that
    order (whole library or one folder): no sort of the value's images, no row of
    ``images`` read but the page's (migrations 0014, 0018; what keeps a page 5,000 deep
    at 100,000 images within the query targets)."""
    flt = meta_listing.with_lead(
        Filter(meta=(MetaFilter.parse("sku", "A"),), folder=folder), 0, ("text",)
    )
    params: dict[str, object] = {"limit": 25, "offset": 5000}
    sql = meta_listing.select_pks(flt, meta_listing.ORDER[sort], params)
    with library.engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"), params))
    assert "TEMP B-TREE" not in plan, plan
    scope = "folder_" if folder is not ALL_FOLDERS else ""
    assert f"COVERING INDEX ix_image_metadata_{scope}{_INDEX_OF[sort]} " in plan, plan


@pytest.mark.folder_only  # SQLite's query plan
def test_a_search_among_common_values_is_one_merge(library: Library) -> None:
    """The images a term's phrase and two values have in common: one merge of lists in
    pk order (``meta_listing.search_among``), no set built and probed."""
    _add(library, 1, None, {"sku": "A", "n": 2})
    _add(library, 2, None, {"sku": "A", "n": 3})
    flt = Filter(meta=(MetaFilter.parse("sku", "A"), MetaFilter.parse("n", "2")), search="i1.")
    search = ("SELECT rowid FROM images_fts WHERE images_fts MATCH :fts", {"fts": '"i1."'})
    with library.engine.connect() as conn:
        pk = conn.execute(text("SELECT pk FROM images WHERE filename = 'i1.png'")).scalar()
        assert meta_listing.search_among(conn, flt, search, 10) == [pk]
        traced: list[str] = []
        conn.connection.dbapi_connection.set_trace_callback(traced.append)  # type: ignore[union-attr]
        meta_listing.search_among(conn, flt, search, 10)
        conn.connection.dbapi_connection.set_trace_callback(None)  # type: ignore[union-attr]
        (sql,) = [s for s in traced if "INTERSECT" in s]
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert plan.count("MERGE (INTERSECT)") == 2, plan
    assert "ix_image_metadata_value" in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.folder_only  # SQLite's FTS5 (migration 0023)
def test_a_term_among_common_values_is_one_fts_query(library: Library) -> None:
    """With the term's trigram cover, the images it and two values (one read two ways)
    have in common are one FTS5 query of the values' tags and the cover, no merge with
    ``image_metadata``'s entries; those in common confirmed against the text and listed
    in the page's order. A value no image has: none, without a query of the index."""
    a = _add(library, 1, None, {"sku": "A", "n": 2})
    _add(library, 2, None, {"sku": "A", "n": 3})
    b = _add(library, 3, None, {"sku": "A", "n": "2"})
    _add(library, 4, None, {"sku": "B", "n": 2})
    flt = Filter(meta=(MetaFilter.parse("sku", "A"), MetaFilter.parse("n", "2")), search="png")
    cover = sqlite_search.cover_of("png")
    with library.engine.connect() as conn:
        pks = dict(conn.execute(text("SELECT id, pk FROM images")).all())
        traced: list[str] = []
        conn.connection.dbapi_connection.set_trace_callback(traced.append)  # type: ignore[union-attr]
        got = meta_listing.search_among(conn, flt, cover, 10, "png", "created_at DESC, id DESC")
        conn.connection.dbapi_connection.set_trace_callback(None)  # type: ignore[union-attr]
        assert got == [pks[b], pks[a]]  # "2" as text and 2 as a number, newest first
        assert not [s for s in traced if "INTERSECT" in s or "image_metadata" in s], traced
        assert [s for s in traced if "images_fts MATCH" in s], traced
        nothing = Filter(meta=(MetaFilter.parse("sku", "A"), MetaFilter.parse("n", "9")))
        assert meta_listing.search_among(conn, nothing, cover, 10, "png") == []


# Alt texts holding every trigram of "sevilla catedral"'s cover (sqlite_search.trigram_cover)
# and not the phrase, beside those that hold it; and "catedral"'s first trigram alone (a
# candidate of its narrow cover that the words, or the text, must turn away).
_ALTS = ["sevilla catedral", "catedral de sevilla", "sev ill a c ate dra ral", None, "a cat"]


@pytest.mark.parametrize(
    ("among", "confirm_cap", "resolve_cap"),
    [(0, 1000, 500), (3, 1000, 500), (1000, 1000, 500), (1000, 10, 500), (1000, 1, 0)],
)
def test_a_term_among_common_values_lists_exactly_its_matches(
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
    among: int,
    confirm_cap: int,
    resolve_cap: int,
) -> None:
    """Common values and a term: on SQLite the images they have in common are found from
    the term's trigram cover (a superset of its matches) and confirmed against each
    row's text, so a row holding every trigram of the cover but not the term is not
    listed; over the caps the other ways answer (the term's matches listed, or merged
    as a phrase: the last case). The cover's first trigram alone is asked first; at a
    confirmation cap of 10 ("sev": 12 of the 20) it is over, the whole cover (8) is
    not, and answers. A term within one word ("catedral") is confirmed from the words
    for a cursor's walk (pk order), from the text for a page. Every page and the total,
    by page number and by cursor, are ``Filter.matches`` in ``Sort.key`` order."""
    for n in range(20):
        prepared = library.prepare(io.BytesIO(image_bytes("PNG", color=(n, 9, 9))), f"p{n}.png")
        library.commit(
            prepared, custom_metadata={"sku": "A", "n": n % 2}, alt_text=_ALTS[n % len(_ALTS)]
        )
    monkeypatch.setattr(meta_listing, "META_RESOLVE_CAP", 0)  # every value common
    monkeypatch.setattr(listing, "SEARCH_AMONG_CAP", among)
    monkeypatch.setattr(listing, "CONFIRM_CAP", confirm_cap)
    monkeypatch.setattr(listing, "RESOLVE_CAP", resolve_cap)
    everything = library.list_images(page_size=100).items
    flt_all = Filter(search="sevilla catedral")
    assert sum(flt_all.matches(r) for r in everything) == 4  # the phrase, once in 5
    asked: list[tuple[object, bool]] = []  # each cover search_among was given, and "over"
    real = meta_listing.search_among

    def spy(*args: Any, **kw: Any) -> list[int] | None:
        found = real(*args, **kw)
        asked.append((args[2][1].get("cover"), found is None))
        return found

    for meta, term in itertools.product(
        ({"sku": "A"}, {"sku": "A", "n": "1"}), ("Sevilla Catedral", "catedral", "ate dra")
    ):
        flt = Filter(meta=tuple(MetaFilter.parse(k, v) for k, v in meta.items()), search=term)
        asked.clear()
        with library.core.read() as conn, monkeypatch.context() as m:
            m.setattr(meta_listing, "search_among", spy)
            resolved = listing.resolve(conn, flt)
        sqlite = library.engine.dialect.name == "sqlite"
        if (confirm_cap, meta, term) == (10, {"sku": "A"}, "Sevilla Catedral") and sqlite:
            whole = sqlite_search.trigram_cover("sevilla catedral")
            assert asked[:2] == [('"sev"', True), (whole, False)], asked
        want = [r for r in everything if flt.matches(r)]
        if among == 1000:  # listed: from the cover, confirmed, or (confirm_cap 1, or
            # PostgreSQL) the phrase merged
            assert resolved.matches_among_meta, (meta, term)
        if among == 0:  # more than none: not listed
            assert not resolved.matches_among_meta, (meta, term)
        for sort in Sort:
            ids = [r.id for r in sorted(want, key=sort.key())]
            for page in range(1, 5):
                got = library.list_images(meta=meta, search=term, sort=sort, page=page, page_size=3)
                assert got.total == len(ids), (meta, term)
                assert [r.id for r in got.items] == ids[(page - 1) * 3 : page * 3], (meta, term)
            walked, after = [], None
            while True:
                cursor_page = library.list_by_cursor(
                    meta=meta, search=term, sort=sort, limit=3, after=after
                )
                walked += [r.id for r in cursor_page.items]
                assert cursor_page.total == len(ids)
                if not cursor_page.has_next_page:
                    break
                after = cursor_page.end_cursor
            assert walked == ids, (meta, term, sort)


@pytest.mark.folder_only  # SQLite's FTS5 (migration 0023)
def test_a_term_like_a_tag_finds_only_text(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A term holding Private Use Area characters (what the values' tags are made of) is
    not looked up in the trigram index, where its phrase (unconfirmed: a term too common
    to list) could match a tag: the image whose custom_metadata has that tag is not
    found, the one whose alt text holds it is."""
    monkeypatch.setattr(listing, "RESOLVE_CAP", 0)
    tagged = _add(library, 1, None, {"sku": "A"})
    with library.engine.connect() as conn:
        (tag_id,) = conn.execute(text("SELECT id FROM meta_tags WHERE key = 'sku'")).one()
    tag = meta_tags.tag_of(tag_id)
    written = _add(library, 2, None, {})
    library.update(written, alt_text=f"a {tag} b")
    for sort in Sort:
        page = library.list_images(search=tag, sort=sort)
        assert [r.id for r in page.items] == [written] and page.total == 1, tagged
        found = library.list_images(search=tag, meta={"sku": "A"}, sort=sort).items
        assert found == []
