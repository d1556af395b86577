"""The faster read paths of issue 7 answer exactly what the plain ones did: trigger-kept
counts of images without alt text, every search plan, pages read from the far end."""

from __future__ import annotations

import io
import random
from collections.abc import Callable

import pytest
from sqlalchemy import text

from imageshelf.app.library import ALL_FOLDERS, Library
from imageshelf.app.library.filters import Filter, Sort
from imageshelf.app.library.sql import listing

FOLDERS = [None, "a", "a/b", "ç"]


def _true_count(lib: Library, where: str, params: dict[str, object]) -> int:
    with lib.engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM images{where}"), params).scalar_one()


def test_undescribed_counts_follow_adds_edits_moves_and_deletes(
    library: Library, make_image: Callable[..., bytes]
) -> None:
    rng = random.Random(5)
    ids: list[str] = []
    for step in range(80):
        roll = rng.random()
        if roll < 0.4 or not ids:
            record = library.add(
                io.BytesIO(make_image(color=(rng.randrange(256), step % 256, 9))),
                "x.jpg",
                alt_text=rng.choice([None, "", "a dog"]),
                folder=rng.choice(FOLDERS),
            )
            ids.append(record.id)
        elif roll < 0.6:
            library.update(rng.choice(ids), alt_text=rng.choice([None, "", "a cat"]))
        elif roll < 0.75:
            library.update(rng.choice(ids), folder=rng.choice(FOLDERS))
        elif roll < 0.9:
            library.update(
                rng.choice(ids), folder=rng.choice(FOLDERS), alt_text=rng.choice([None, "x"])
            )
        else:
            gone = rng.choice(ids)
            library.delete(gone)
            ids.remove(gone)
        for folder in FOLDERS:
            expected = _true_count(
                library, " WHERE folder = :f AND alt_text IS NULL", {"f": folder or ""}
            )
            assert library.count(folder=folder, undescribed=True) == expected, (step, folder)
        assert library.count(undescribed=True) == _true_count(
            library, " WHERE alt_text IS NULL", {}
        )


def test_every_search_plan_and_direction_gives_the_same_pages(
    library: Library, make_image: Callable[..., bytes]
) -> None:
    words = ["Café", "CAFÉ au lait", "naïve", "straße", "日本の写真", "cafe", "x%_y"]
    for i in range(60):
        library.add(
            io.BytesIO(make_image(color=(i * 4 % 256, 50, 60))),
            f"{words[i % len(words)]}-{i}.png",
            alt_text=None if i % 3 == 0 else words[(i * 5) % len(words)],
            folder=FOLDERS[i % len(FOLDERS)],
        )
    with library.engine.connect() as conn:
        # Long terms too: many trigrams, one phrase.
        long_terms = ["café au lait", "STRASSE-1", "日本の写真-1", "zzzzzzzzz"]
        for term in ["café", "CAFÉ", "strasse", "ße", "日本", "x%_", "ive", "-1", *long_terms]:
            for folder in [ALL_FOLDERS, None, "a"]:
                flt = Filter(folder=folder, search=term)
                total = listing.count(conn, flt)
                scan_where, scan_params = listing.where_clause(flt, "scan")
                assert (
                    total
                    == conn.execute(
                        text(f"SELECT COUNT(*) FROM images{scan_where}"), scan_params
                    ).scalar_one()
                )
                expected = [
                    r.id for r in listing._rows(conn, scan_where, scan_params, 0, 1000, Sort.NEWEST)
                ]
                for plan in ("scan", "member", "sort"):
                    where, params = listing.where_clause(flt, plan)
                    got = [r.id for r in listing._rows(conn, where, params, 0, 1000, Sort.NEWEST)]
                    assert got == expected, (term, folder, plan)
                for offset in range(0, max(total, 1), 7):
                    page = [r.id for r in listing.page(conn, flt, offset, 7, total=total)]
                    assert page == expected[offset : offset + 7], (term, folder, offset)


def test_deep_pages_read_backwards_match_forward_pages(
    library: Library, make_image: Callable[..., bytes]
) -> None:
    for i in range(23):
        library.add(io.BytesIO(make_image(color=(i * 9, 1, 2))), f"p{i}.png")
    forward = [r.id for r in library.list_images(page_size=100).items]
    for sort in (Sort.NEWEST, Sort.OLDEST):
        ordered = forward if sort is Sort.NEWEST else forward[::-1]
        for page in range(1, 6):
            got = [r.id for r in library.list_images(page=page, page_size=5, sort=sort).items]
            assert got == ordered[(page - 1) * 5 : page * 5], (sort, page)


def test_resolved_searches_count_and_page_exactly_as_the_plain_query(
    library: Library, make_image: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A term resolved to its matches through the trigram cover answers what the scan
    does — for phrases whose every trigram is common but which are rare together (the
    cover's candidates include rows that are not matches), for terms found nowhere, at
    every cap (over it the phrase answers, as before)."""
    alts = [
        "sevilla catedral",  # the phrase
        "catedral de sevilla",  # both words, not the phrase: a candidate, not a match
        "la catedral",
        "Sevilla, Catedral",  # not the phrase (a comma)
        None,
        "sev ill a c ate dra ral",  # every trigram of the cover, no match
        "Café au lait, 日本の写真",  # several bytes per character: trigrams of characters
    ]
    for i in range(42):
        library.add(
            io.BytesIO(make_image(color=(i * 7 % 256, 20, 90))),
            f"img-{i}.jpg",
            alt_text=alts[i % len(alts)],
            folder=FOLDERS[i % len(FOLDERS)],
        )
    terms = ["sevilla catedral", "SEVILLA CATEDRAL", "catedral", "sevilla", "a c", "img-1",
             "ral", "nowhere at all", "dral de s", '"quoted"', "CAFÉ AU", "日本の写真",
             "本の写", "lait, 日"]  # fmt: skip
    with library.engine.connect() as conn:
        for cap in (0, 2, 5, 500):
            monkeypatch.setattr(listing, "RESOLVE_CAP", cap)
            for term in terms:
                for folder in [ALL_FOLDERS, None, "a"]:
                    for undescribed in (False, True):
                        flt = Filter(folder=folder, search=term, undescribed=undescribed)
                        resolved = listing.resolve(conn, flt)
                        where, params = listing.where_clause(flt, "scan")
                        expected = [
                            r.id for r in listing._rows(conn, where, params, 0, 1000, Sort.NEWEST)
                        ]
                        where_all, params_all = listing.where_clause(Filter(search=term), "scan")
                        every_match = conn.execute(
                            text(f"SELECT pk FROM images{where_all} ORDER BY pk"), params_all
                        ).scalars()
                        if resolved.matches_pks is not None:
                            assert list(resolved.matches_pks) == list(every_match), (cap, term)
                        total = listing.count(conn, resolved)
                        assert total == len(expected), (cap, term, folder, undescribed)
                        for plan in ("member", "sort"):
                            where, params = listing.where_clause(resolved, plan)
                            got = listing._rows(conn, where, params, 0, 1000, Sort.NEWEST)
                            assert [r.id for r in got] == expected, (cap, term, folder, plan)
                        for offset in range(0, max(total, 1), 4):
                            page = listing.page(conn, resolved, offset, 4, total=total)
                            assert [r.id for r in page] == expected[offset : offset + 4]
        # The library's own list goes through the same resolution.
        monkeypatch.setattr(listing, "RESOLVE_CAP", 500)
    listed = library.list_images(search="Sevilla Catedral", page_size=100)
    assert listed.total == 6 and {r.alt_text for r in listed.items} == {"sevilla catedral"}
    assert library.list_images(search="日本の写").total == 6
