"""Target 4 for the Part 2 listing (issue 16): cursor pages at any depth in every sort,
``ids``, ``recursive`` and search in cursor mode, and every ``meta.KEY=VALUE`` filter
(common and rare values, two at once, with a folder, a subtree, ``undescribed``, a
search) in every sort at every depth, by cursor and by page number, measured in the
core and over HTTP by ``bench_queries``, under the same goals as the page-mode pages
(≤ 5 ms in the core, ≤ 15 ms over HTTP for the slowest).

Each case is a label, the core's call and the same request's query string. A deep
cursor is the one a client walking from the first page would hold there: made by
``cursors.encode`` from the row at that depth, read in page mode once, off the clock."""

from __future__ import annotations

import itertools
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imageshelf.app.library import ALL_FOLDERS, Library, Sort, cursors, rules
from imageshelf.app.library.filters import Filter
from imageshelf.app.library.library import listing_filter


@dataclass(frozen=True)
class Case:
    label: str
    call: Callable[[], object]
    query: str


def _args(kw: dict[str, Any]) -> dict[str, Any]:
    """The listing's filter arguments of ``kw`` (``Library.list_by_cursor`` names)."""
    names = ("folder", "search", "undescribed", "recursive", "ids", "meta")
    return {k: v for k, v in kw.items() if k in names}


def _filter_of(kw: dict[str, Any]) -> Filter:
    a = _args(kw)
    return listing_filter(
        a.get("folder", ALL_FOLDERS),
        a.get("search"),
        a.get("undescribed", False),
        a.get("recursive", False),
        a.get("ids"),
        a.get("meta"),
    )


def _query(kw: dict[str, Any], **paging: str) -> str:
    params: list[tuple[str, str]] = []
    for key, value in kw.items():
        if key == "folder":
            params.append(("folder", value or ""))
        elif key in ("undescribed", "recursive"):
            params.append((key, "true" if value else "false"))
        elif key == "ids":
            params.append(("ids", ",".join(value)))
        elif key == "meta":
            params += [(f"meta.{k}", v) for k, v in value.items()]
        elif key == "sort":
            params.append(("sort", str(value)))
        else:
            params.append((key, str(value)))
    params += list(paging.items())
    return urllib.parse.urlencode(params)


def _deep(lib: Library, kw: dict[str, Any], fraction: float) -> str | None:
    """The cursor of the row ``fraction`` of the way through the listing."""
    sort = Sort.parse(kw.get("sort", Sort.NEWEST))
    total = lib.list_images(**_args(kw), page_size=1).total
    at = max(1, int(total * fraction))
    rows = lib.list_images(**_args(kw), sort=sort, page=at, page_size=1).items
    return cursors.encode(_filter_of(kw), sort, rows[0]) if rows else None


def _cursor_cases(lib: Library, name: str, kw: dict[str, Any], limit: int) -> list[Case]:
    """The first page, after the middle and near the end, before the middle."""
    args = _args(kw) | {"sort": kw.get("sort", Sort.NEWEST)}
    out = [
        Case(
            f"cursor {name}, first",
            lambda a=args: lib.list_by_cursor(**a, limit=limit),
            _query(kw, limit=str(limit)),
        )
    ]
    for where, fraction in (("middle", 0.5), ("near the end", 0.98)):
        cursor = _deep(lib, kw, fraction)
        if cursor is None:
            continue
        out.append(
            Case(
                f"cursor {name}, after {where}",
                lambda a=args, c=cursor: lib.list_by_cursor(**a, limit=limit, after=c),
                _query(kw, limit=str(limit), after=cursor),
            )
        )
    cursor = _deep(lib, kw, 0.5)
    if cursor is not None:
        out.append(
            Case(
                f"cursor {name}, before middle",
                lambda a=args, c=cursor: lib.list_by_cursor(**a, limit=limit, before=c),
                _query(kw, limit=str(limit), before=cursor),
            )
        )
    return out


def _page_cases(lib: Library, name: str, kw: dict[str, Any], limit: int) -> list[Case]:
    """Page numbers: the first, the middle and the last page."""
    total = lib.list_images(**_args(kw), page_size=1).total
    last = max(1, (total + limit - 1) // limit)
    out = []
    for where, page in (("first", 1), ("middle", max(1, last // 2)), ("last", last)):
        paged = kw | {"page": page}
        out.append(
            Case(
                f"page {name}, {where}",
                lambda k=paged: lib.list_images(**k, page_size=limit),
                _query(paged, page_size=str(limit)),
            )
        )
    return out


def cases(lib: Library, limit: int = rules.DEFAULT_PAGE_SIZE) -> list[Case]:
    biggest = max(lib.folder_counts(), key=lambda f: f.count).path
    top = biggest.split("/")[0]
    some_ids = [r.id for r in lib.list_images(page=7, page_size=100).items]
    walks: list[tuple[str, dict[str, Any]]] = [
        ("newest", {"sort": Sort.NEWEST}),
        ("oldest", {"sort": Sort.OLDEST}),
        ("name", {"sort": Sort.NAME}),
        ("folder, name", {"folder": biggest, "sort": Sort.NAME}),
        ("folder, newest", {"folder": biggest}),
        ("taken", {"sort": Sort.TAKEN}),
        ("folder, taken", {"folder": biggest, "sort": Sort.TAKEN}),
        (f"{top}/ recursive", {"folder": top, "recursive": True}),
        ("undescribed", {"undescribed": True}),
        ("search", {"search": "bicycle"}),
        ("100 ids", {"ids": some_ids}),
    ]
    # Every meta filter the contract allows (a common value, a rare one, two at once; with
    # a folder, a subtree, undescribed, a search), in every sort, at every depth, by
    # cursor and by page number.
    common = {"batch": "3"}
    metas: list[tuple[str, dict[str, Any]]] = [
        ("meta common (10%)", {"meta": common}),
        ("meta half, folder", {"meta": {"print": "true"}, "folder": biggest}),
        ("meta rare (0.1%)", {"meta": {"recall": "2026-Q4"}}),
        ("meta 0.1% + 10%", {"meta": {"sku": "SKU-0003", "batch": "3"}}),
        ("meta common, undescribed", {"meta": common, "undescribed": True}),
        (f"meta common, {top}/ recursive", {"meta": common, "folder": top, "recursive": True}),
        ("meta common + search", {"meta": common, "search": "bicycle"}),
    ]
    out: list[Case] = []
    for name, kw in walks:
        out += _cursor_cases(lib, name, kw, limit)
    for (name, kw), sort in itertools.product(metas, Sort):
        sorted_kw = kw | {"sort": sort}
        out += _cursor_cases(lib, f"{name}, {sort}", sorted_kw, limit)
        out += _page_cases(lib, f"{name}, {sort}", sorted_kw, limit)
    out += _page_cases(lib, "name", {"sort": Sort.NAME}, limit)
    out += _page_cases(lib, "100 ids", {"ids": some_ids}, limit)
    return out
