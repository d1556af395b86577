"""The query of ``GET /v3/images`` read into the core's listing arguments: filters
(``folder``, ``recursive``, ``search``, ``undescribed``, ``ids``, ``meta.KEY``), ``sort``,
and which paging the client chose — page numbers (``page``/``page_size``, Part 1) or
cursors (``limit`` with ``after`` or ``before``, Part 2). Every rule is the core's; this
only reads the strings and refuses what cannot be read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from werkzeug.datastructures import MultiDict

from imageshelf.app.library import ALL_FOLDERS, InvalidInput, Sort, rules
from imageshelf.app.library.errors import ConflictingPagination, InvalidParameter

META_PREFIX: Final = "meta."
_WHOLE_NUMBER: Final = re.compile(r"[0-9]{1,9}")
_PAGE_ARGS: Final = ("page", "page_size")
_CURSOR_ARGS: Final = ("limit", "after", "before")


@dataclass(frozen=True)
class ListingArgs:
    filters: dict[str, Any]
    cursor_mode: bool
    page: int = 1
    page_size: int = rules.DEFAULT_PAGE_SIZE
    limit: int = rules.DEFAULT_PAGE_SIZE
    after: str | None = None
    before: str | None = None


def _whole_number(
    args: MultiDict[str, str], name: str, default: int, error: type[InvalidInput]
) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw):
        raise error(f"{name} must be a whole number, not {raw!r}.")
    return int(raw)


def _flag(args: MultiDict[str, str], name: str) -> bool:
    """``true`` or ``false`` (the contract's Part 2); anything else is refused."""
    raw = args.get(name, "false")
    if raw not in ("true", "false"):
        raise InvalidParameter(f"{name} must be true or false; got {raw!r}.")
    return raw == "true"


def _meta(args: MultiDict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in args:
        if not name.startswith(META_PREFIX):
            continue
        values = args.getlist(name)
        if len(values) > 1:
            raise InvalidParameter(f"{name} is given {len(values)} times; give each key once.")
        found[name[len(META_PREFIX) :]] = values[0]
        if len(found) > rules.MAX_META_FILTERS:
            raise InvalidParameter(f"At most {rules.MAX_META_FILTERS} meta.* filters are allowed.")
    return found


def read(args: MultiDict[str, str]) -> ListingArgs:
    sort = Sort.parse(args.get("sort", Sort.NEWEST.value))
    filters: dict[str, Any] = {
        "folder": args.get("folder", ALL_FOLDERS),
        "search": args.get("search") or None,
        "undescribed": _flag(args, "undescribed"),
        "recursive": _flag(args, "recursive"),
        "sort": sort,
        "ids": args.getlist("ids") if "ids" in args else None,
        "meta": _meta(args),
    }
    cursor_mode = any(name in args for name in _CURSOR_ARGS)
    if not cursor_mode:
        page = _whole_number(args, "page", 1, InvalidInput)
        page_size = _whole_number(args, "page_size", rules.DEFAULT_PAGE_SIZE, InvalidInput)
        rules.check_page(page, page_size)
        return ListingArgs(filters, False, page=page, page_size=page_size)
    if any(name in args for name in _PAGE_ARGS):
        raise ConflictingPagination(
            "Page numbers (page, page_size) and cursors (limit, after, before) cannot be "
            "mixed: use one or the other."
        )
    if "after" in args and "before" in args:
        raise ConflictingPagination("Send after or before, not both.")
    limit = _whole_number(args, "limit", rules.DEFAULT_PAGE_SIZE, InvalidParameter)
    rules.check_limit(limit)
    return ListingArgs(
        filters, True, limit=limit, after=args.get("after"), before=args.get("before")
    )
