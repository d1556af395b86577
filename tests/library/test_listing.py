"""``list_images``: newest first and stable across pages, exact folder filter, literal
case- and accent-insensitive search that agrees between the trigram index and the plain scan."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from imageshelf.app.library import InvalidInput, Library, Sort
from imageshelf.app.library.records import ImageRecord
from tests.conftest import image_bytes

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

JPEG = image_bytes("JPEG")

# (original filename, alt text, folder)
GALLERY = [
    ("100%.jpg", "full", None),
    ("100x.jpg", None, None),
    ("a_b.jpg", "", None),
    ("axb.jpg", 'say "hi" it\'s me', "brand"),
    ("Éclair.jpg", "pâtisserie", "brand"),
    ("zeta.jpg", "ÉCLAIR au café", "brand/sub"),
    ("Straße.jpg", None, "clients/acme"),
    ("logo.jpg", "Logo on white", ""),
]


def fill(lib: Library) -> list[ImageRecord]:
    """The images above, added in order (so the last is the newest)."""
    return [
        lib.add(io.BytesIO(JPEG), name, alt_text=alt, folder=folder)
        for name, alt, folder in GALLERY
    ]


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[tuple[Library, list[ImageRecord]]]:
    """One gallery for the whole module: these tests only read it."""
    with Library.open(tmp_path_factory.mktemp("listing") / "Library ñ") as lib:
        yield lib, fill(lib)


@pytest.fixture
def library(shared) -> Library:
    return shared[0]


@pytest.fixture
def gallery(shared) -> list[ImageRecord]:
    return shared[1]


def ids(records: list[ImageRecord]) -> list[str]:
    return [r.id for r in records]


def newest_first(records: list[ImageRecord]) -> list[str]:
    return ids(sorted(records, key=lambda r: (r.created_at_us, r.id), reverse=True))


def test_default_is_every_folder_newest_first(library, gallery) -> None:
    page = library.list_images()
    assert page.total == len(GALLERY) == library.count()
    assert ids(page.items) == newest_first(gallery) == ids(gallery[::-1])
    assert (page.page, page.page_size) == (1, 25)


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_pages_join_up_without_gaps_or_repeats(library, gallery, size) -> None:
    seen: list[str] = []
    page_no = 1
    while True:
        page = library.list_images(page=page_no, page_size=size)
        assert page.total == len(GALLERY)
        if not page.items:
            break
        assert len(page.items) <= size
        seen += ids(page.items)
        page_no += 1
    assert seen == newest_first(gallery)


def test_a_page_past_the_end_is_empty_with_the_right_total(library, gallery) -> None:
    page = library.list_images(page=99, page_size=3)
    assert (page.items, page.total, page.page, page.page_size) == ([], len(GALLERY), 99, 3)
    assert library.list_images(page=2, folder="brand/sub", page_size=1).items == []


def test_equal_times_are_ordered_by_id_descending(library_path) -> None:
    with Library.open(library_path) as lib:  # its own library: this test rewrites times
        gallery = fill(lib)
        with lib.engine.begin() as conn:
            conn.execute(text("UPDATE images SET created_at = 1700000000000000"))
        pages = [lib.list_images(page=p, page_size=3).items for p in (1, 2, 3)]
    listed = [r.id for items in pages for r in items]
    assert listed == sorted(ids(gallery), reverse=True)


@pytest.mark.parametrize(
    ("page", "page_size"),
    [
        (0, 25),
        (-1, 25),
        (1, 0),
        (1, 101),
        (1, -5),
        ("2", 25),
        (1, "25"),
        (1.0, 25),
        (True, 25),
        (None, 25),
        (1, None),
    ],
)
def test_bad_paging_is_refused(library, page, page_size) -> None:
    with pytest.raises(InvalidInput) as info:
        library.list_images(page=page, page_size=page_size)
    assert info.value.code == "invalid_input"


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        (None, ["100%.jpg", "100x.jpg", "a_b.jpg", "logo.jpg"]),
        ("", ["100%.jpg", "100x.jpg", "a_b.jpg", "logo.jpg"]),
        ("brand", ["axb.jpg", "Éclair.jpg"]),
        (" /brand/ ", ["axb.jpg", "Éclair.jpg"]),
        ("brand/sub", ["zeta.jpg"]),
        ("clients", []),
        ("nowhere", []),
    ],
)
def test_folder_filter_is_exact(library, gallery, folder, expected) -> None:
    page = library.list_images(folder=folder)
    assert sorted(r.original_filename for r in page.items) == sorted(expected)
    assert page.total == len(expected) == library.count(folder=folder)


def _plain(text: str) -> str:
    """The test's own reading of the rule: no case, no accents (Latin), one form."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def matches(record: ImageRecord, term: str) -> bool:
    fields = (record.filename, record.original_filename, record.alt_text or "")
    return any(_plain(term) in _plain(f) for f in fields)


SEARCH_TERMS = [
    "%",
    "0%",
    "100%",
    "_",
    "a_b",
    "x",
    "'",
    '"',
    '"hi"',
    "it's",
    "É",
    "é",
    "éc",
    "éclair",
    "ÉCLAIR",
    "ECLAIR",
    "patisserie",
    "pâtisserie",
    "strasse",
    "straße",
    "STRASSE",
    "ss",
    ".jpg",
    "jpg",
    "logo on",
    "LOGO ON WHITE",
    "café",
    "e",
    "no such thing",
    "ab",
]


@pytest.mark.parametrize("term", SEARCH_TERMS)
def test_search_is_literal_case_insensitive_and_complete(library, gallery, term) -> None:
    page = library.list_images(search=term, page_size=100)
    expected = [r for r in gallery if matches(r, term)]
    assert ids(page.items) == newest_first(expected)
    assert page.total == len(expected)


def test_search_examples(library, gallery) -> None:
    def found(term: str) -> list[str]:
        return sorted(r.original_filename for r in library.list_images(search=term).items)

    assert found("%") == ["100%.jpg"]  # not every name, as an SQL wildcard would
    assert found("_") == ["a_b.jpg"]
    assert found('"hi"') == ["axb.jpg"]
    assert found("éclair") == found("ÉCLAIR") == ["zeta.jpg", "Éclair.jpg"]
    assert found("eclair") == found("Éclair") == ["zeta.jpg", "Éclair.jpg"]
    assert found("patisserie") == found("pâtisserie") == ["Éclair.jpg"]
    assert found("É") == found("e")
    assert found("straße") == ["Straße.jpg"]


def test_search_ignores_unicode_normalisation(library_path) -> None:
    """macOS sends names decomposed (e + combining accent); people type them composed."""
    with Library.open(library_path) as lib:
        rec = lib.add(io.BytesIO(JPEG), "cafe\u0301.jpg", alt_text="Cre\u0300me bru\u0302le\u0301e")
        for term in ("café", "CAFÉ", "cafe\u0301", "crème", "brûlée", "è", "É"):
            assert lib.list_images(search=term).items == [rec], term


@pytest.mark.parametrize(
    ("stored", "term"),
    [
        ("café", "cafe"),  # the accent typed in the name, not in the search
        ("cafe", "café"),  # ... and the other way round
        ("cafe\u0301", "cafe"),  # decomposed (macOS) name, plain term
        ("cafe", "cafe\u0301"),  # plain name, decomposed term
        ("café", "cafe\u0301"),  # composed name, decomposed term
        ("CAFÉ", "café"),
        ("Ångström", "angstrom"),
        ("naïve", "NAIVE"),
        ("ǰ", "j"),  # a letter with no composed capital: its caron survives casefold
        ("j", "ǰ"),
        ("İstanbul", "istanbul"),
    ],
)
def test_search_ignores_accents_both_ways(library_path, stored: str, term: str) -> None:
    with Library.open(library_path) as lib:
        rec = lib.add(io.BytesIO(JPEG), "x.jpg", alt_text=f"at the {stored} corner")
        lib.add(io.BytesIO(JPEG), "y.jpg", alt_text="something else")
        # Through the trigram index (3+ characters) and through the scan (fewer).
        assert lib.list_images(search=f"the {term} c").items == [rec], (stored, term)
        assert rec in lib.list_images(search=term).items, (stored, term)


def test_accents_that_are_not_accents_are_kept(library_path) -> None:
    """Kana voicing marks change the word (か ka, が ga): not folded away."""
    with Library.open(library_path) as lib:
        ga = lib.add(io.BytesIO(JPEG), "が.jpg")
        ka = lib.add(io.BytesIO(JPEG), "か.jpg")
        assert lib.list_images(search="が").items == [ga]
        assert lib.list_images(search="か").items == [ka]


def test_short_and_long_terms_agree(library, gallery) -> None:
    """1–2 characters scan; 3+ use the trigram index: one finds what the other finds."""
    short = {r.id for r in library.list_images(search="ai", page_size=100).items}
    long_ = {r.id for r in library.list_images(search="air", page_size=100).items}
    assert long_ and long_ <= short


def test_search_combines_with_folder_and_pages(library, gallery) -> None:
    page = library.list_images(search="jpg", folder="brand", page_size=1, page=2)
    assert page.total == 2 and len(page.items) == 1
    assert library.list_images(search="éclair", folder=None).items == []


def test_empty_search_means_no_filter_and_non_text_is_refused(library, gallery) -> None:
    assert library.list_images(search="").total == len(GALLERY)
    assert library.list_images(search=None).total == len(GALLERY)
    with pytest.raises(InvalidInput):
        library.list_images(search=42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        library.list_images(search="\ud800")  # unpaired surrogate: not text
    for term in ("a\x00b", "abc\x00", "\x00", "jpg\x1f100"):  # NUL; the field separator
        with pytest.raises(InvalidInput):
            library.list_images(search=term)


def test_undescribed_means_alt_text_none_only(library, gallery) -> None:
    page = library.list_images(undescribed=True)
    assert sorted(r.original_filename for r in page.items) == ["100x.jpg", "Straße.jpg"]
    assert page.total == 2 == library.count(undescribed=True)


def test_sort_by_name_and_oldest(library, gallery) -> None:
    by_name = [r.filename for r in library.list_images(sort=Sort.NAME, page_size=100).items]
    assert by_name == sorted(by_name, key=str.lower)
    assert ids(library.list_images(sort="oldest").items) == ids(gallery)
    with pytest.raises(InvalidInput):
        library.list_images(sort="bogus")
