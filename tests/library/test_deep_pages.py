"""Page numbers in every sort, read page by page at several sizes, give the order
``Sort.key`` defines, nothing missed or repeated: a page past the middle is read from
the far end of the sort's index and turned round (``listing.page``; on PostgreSQL the
name order too), which must land on exactly the rows a forward walk would. Names that
differ only in case or not at all, and equal times, make the ties the id settles."""

from __future__ import annotations

import io

import pytest

from imageshelf.app.library import Library, Sort
from imageshelf.app.library.records import ImageRecord
from tests.conftest import image_bytes

BOTH_BACKENDS = True  # also on a team library (PostgreSQL): tests/library/conftest.py

NAMES = ["b.png", "B.png", "a.png", "A.png", "é.png", "Z.png", "z.png", "_.png", "10.png", "9.png"]


@pytest.fixture
def made(library: Library) -> list[ImageRecord]:
    out = []
    for n, name in enumerate(NAMES + NAMES[:3]):
        prepared = library.prepare(io.BytesIO(image_bytes("PNG", color=(n, 7, 1))), name)
        out.append(library.commit(prepared, folder="f" if n % 2 else None))
    return out


@pytest.mark.parametrize("sort", list(Sort))
def test_every_page_in_order(library: Library, made: list[ImageRecord], sort: Sort) -> None:
    expected = [r.id for r in sorted(made, key=sort.key())]
    for size in (1, 2, 4, 5):
        pages = -(-len(made) // size)
        walked = []
        for number in range(1, pages + 1):
            page = library.list_images(sort=sort, page=number, page_size=size)
            assert page.total == len(made)
            walked += [r.id for r in page.items]
        assert walked == expected, (sort, size)
        assert library.list_images(sort=sort, page=pages + 1, page_size=size).items == []
