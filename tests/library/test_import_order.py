"""An import session commits in the order it was given, though it prepares in parallel."""

from __future__ import annotations

from pathlib import Path

from imageshelf.app.library import Library, Sort
from imageshelf.app.library.importer import ImportSession, collect
from tests.conftest import image_bytes


def test_commits_follow_the_order_given(library: Library, tmp_path: Path) -> None:
    paths = []
    for n in range(12):
        # Big ones first: they take longest to prepare, yet are committed first.
        side = 900 - n * 60
        path = tmp_path / f"{n:02}.png"
        path.write_bytes(image_bytes("PNG", size=(side, side), color=(n * 20, 40, 80)))
        paths.append(path)
    report = ImportSession(library, collect(paths), workers=4).run()
    assert [r.original_filename for r in report.added] == [p.name for p in paths]
    oldest_first = library.list_images(sort=Sort.OLDEST).items
    assert [r.original_filename for r in oldest_first] == [p.name for p in paths]
