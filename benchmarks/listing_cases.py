"""Target 4 for the Part 2 listing (issue 16): cursor pages at any depth in every sort,
``ids``, ``meta.KEY=VALUE`` (common and rare values), ``recursive`` and search in cursor
mode, measured in the core and over HTTP by ``bench_queries``, under the same goals as
the page-mode pages (≤ 5 ms in the core, ≤ 15 ms over HTTP for the slowest).

Each case is a label, the core's call and the same request's query string. A deep
cursor is the one a client walking from the first page would hold there: made by
``cursors.encode`` from the row at that depth, read in page mode once, off the clock."""

from __future__ import annotations

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
        ("meta common (10%)", {"meta": {"batch": "3"}}),
        ("meta common, name", {"meta": {"batch": "3"}, "sort": Sort.NAME}),
        ("meta half, folder", {"meta": {"print": "true"}, "folder": biggest}),
        ("meta rare (0.1%)", {"meta": {"recall": "2026-Q4"}}),
        ("meta 0.1% + 10%", {"meta": {"sku": "SKU-0003", "batch": "3"}}),
        ("meta common, taken", {"meta": {"batch": "3"}, "sort": Sort.TAKEN}),
        ("meta common, undescribed", {"meta": {"batch": "3"}, "undescribed": True}),
        (
            f"meta common, {top}/ recursive",
            {"meta": {"batch": "3"}, "folder": top, "recursive": True},
        ),
        ("meta common + search", {"meta": {"batch": "3"}, "search": "bicycle"}),
        ("search, cursor", {"search": "bicycle"}),
        ("100 ids", {"ids": some_ids}),
    ]
    out: list[Case] = []
    for name, kw in walks:
        args = _args(kw) | {"sort": kw.get("sort", Sort.NEWEST)}
        out.append(
            Case(
                f"cursor {name}, first",
                lambda a=args: lib.list_by_cursor(**a, limit=limit),
                _query(kw, limit=str(limit)),
            )
        )
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
    middle = max(1, lib.count() // 50)
    common = {"batch": "3"}
    for name, kw in (
        ("page name, middle", {"sort": Sort.NAME, "page": middle}),
        ("page meta common, middle", {"meta": common, "page": max(1, middle // 10)}),
        (
            "page meta common, oldest, middle",
            {"meta": common, "sort": Sort.OLDEST, "page": max(1, middle // 10)},
        ),
        # Page numbers in the orders image_metadata does not carry: its index cannot
        # count to the page, so every image before it is walked (issue 16, left open).
        (
            "page meta common, name, middle",
            {"meta": common, "sort": Sort.NAME, "page": max(1, middle // 10)},
        ),
        (
            "page meta common, undescribed, middle",
            {"meta": common, "undescribed": True, "page": max(1, middle // 33)},
        ),
        (
            f"page meta common, {top}/ recursive, middle",
            {"meta": common, "folder": top, "recursive": True, "page": max(1, middle // 50)},
        ),
        ("page meta common + search", {"meta": common, "search": "bicycle", "page": 1}),
        ("page meta common + search, p10", {"meta": common, "search": "bicycle", "page": 10}),
        ("page 100 ids", {"ids": some_ids, "page": 1}),
    ):
        out.append(Case(name, lambda k=kw: lib.list_images(**k), _query(kw, page_size=str(limit))))
    return out
