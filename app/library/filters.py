"""What a listing asks for and the rules it stands for: which images a ``Filter`` keeps
(``Filter.matches``) and in which order a ``Sort`` puts them (``Sort.key``).

The SQL in ``sql/listing.py`` answers the same questions fast; these are the definitions,
asked directly by whoever holds records already (the grid, keeping its rows current).
Search is a literal substring of filename, original filename or alt text, insensitive to
case, to accents and to the Unicode normal form (``fold``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Final, Literal

from .custom_metadata import MetaFilter
from .errors import InvalidParameter
from .folder_limit import FolderLimit
from .records import ImageRecord

SEARCH_FIELD_SEPARATOR = "\x1f"  # a control character: never inside any searched field


# The combining diacritical marks (the blocks of accents that decorate Latin, Greek and
# Cyrillic letters). Other combining marks carry meaning a reader would not call an
# accent (kana voicing marks, Indic vowel signs) and are kept.
_ACCENTS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """What search compares: case-folded, accents removed, in one Unicode form — so
    ``cafe`` finds ``café`` and ``café`` finds ``cafe``, whether the "é" was typed
    composed or came decomposed in a name from macOS, and ``É`` finds both.

    Changing this rule changes the stored ``search_text``: add a migration that
    recomputes it (as ``0004_accent_insensitive_search`` does)."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return unicodedata.normalize("NFC", _ACCENTS.sub("", decomposed))


def search_text(filename: str, original_filename: str, alt_text: str | None) -> str:
    """The text a search term is looked for in: the one computation, stored with every
    row (``sql/rows.py`` writes it) and compared by ``Filter.matches``."""
    return fold(SEARCH_FIELD_SEPARATOR.join((filename, original_filename, alt_text or "")))


class Sort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    NAME = "name"
    # The EXIF date taken, newest first; images without one last, newest added first.
    TAKEN = "taken"

    @classmethod
    def parse(cls, value: object) -> Sort:
        """The sort order named by ``value``; ``InvalidInput`` for anything else."""
        try:
            return cls(value)  # type: ignore[arg-type]
        except ValueError:
            raise InvalidParameter(
                f"sort must be one of {', '.join(s.value for s in cls)}; got {value!r}."
            ) from None

    def key(self) -> Callable[[ImageRecord], tuple[object, ...]]:
        """This order as an ascending key on records: what ``sql/listing.py``'s ORDER BY
        gives, so a record placed with it lands where the next page read has it."""
        if self is Sort.NAME:
            return lambda r: (_nocase(r.filename), r.id)
        if self is Sort.OLDEST:
            return lambda r: (r.created_at_us, r.id)
        if self is Sort.TAKEN:
            # Wall clock as written, offsets ignored (the contract); then as NEWEST.
            return lambda r: (-r.taken_sort_us, -r.created_at_us, _Desc(r.id))
        return lambda r: (-r.created_at_us, _Desc(r.id))


def _nocase(name: str) -> str:
    # SQLite's NOCASE folds ASCII letters only; match it so inserts land where pages do.
    return name.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class _Desc:
    """Reverses the order of a string inside a sort key."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value

    __hash__ = None  # type: ignore[assignment]


class AllFolders(Enum):
    """The one value meaning "every folder" (``None`` already means the root)."""

    ALL_FOLDERS = "all folders"

    def __repr__(self) -> str:
        return "ALL_FOLDERS"


ALL_FOLDERS: Final = AllFolders.ALL_FOLDERS
# What a listing may be limited to: every folder, the root (``None``) or one folder.
FolderScope = str | None | Literal[AllFolders.ALL_FOLDERS]


@dataclass(frozen=True)
class Filter:
    folder: FolderScope = ALL_FOLDERS  # or a folder (None = the root only)
    search: str | None = None
    undescribed: bool = False
    # With a folder: that folder and every folder below it.
    recursive: bool = False
    # Only these ids (``ids=``), ``None`` for any; sorted, each once.
    ids: tuple[str, ...] | None = None
    # ``meta.KEY=VALUE`` filters, all of which must match (sorted, each once).
    meta: tuple[MetaFilter, ...] = ()
    # The pks of every row (in any folder) whose search_text contains the term, when
    # ``sql.listing.resolve`` found them cheaply; ``None`` when not resolved (the trigram
    # index is asked instead). Only ever set by ``resolve``: it must be the exact set —
    # with ``meta`` filters, the exact set of those that match them all too (every query
    # of a filter with ``meta`` tests them as well).
    matches_pks: tuple[int, ...] | None = None
    # ``matches_pks`` are exactly the images matching the term and every ``meta`` filter
    # (``sql.meta_listing.search_among``): with no other filter, their number is the count.
    matches_among_meta: bool = False
    # ``matches_pks`` listed in this sort's order, not pk order (``sql.listing.resolve``
    # given the sort, SQLite): a page-number page of them is a slice of the list.
    matches_sort: Sort | None = None
    # How many rows (in any folder) contain the term, when ``resolve`` counted them on its
    # way (PostgreSQL: one pass of the trigram index gives both); exact, like the above.
    matches_count: int | None = None
    # With ``matches_count``: how many images the whole library holds, read in the same
    # statement (PostgreSQL), which a page's plan weighs the matches against.
    library_count: int | None = None
    # The ids of the words holding the term (SQLite, migration 0028), when ``resolve``
    # found that they answer it (``sql.sqlite_search.words_of``): a match is an image
    # holding one of them. ``None``: the trigram index answers. Exact, as above.
    term_words: tuple[int, ...] | None = None
    # The pks of every row whose custom_metadata matches all of ``meta``, when few enough
    # to list (``sql.listing.resolve``); ``None`` when not resolved. Exact, like the above.
    meta_pks: tuple[int, ...] | None = None
    # Of ``meta``, the filter with the fewest images and the readings of its value
    # (``text``, ``number``, ``boolean``) that some image has: what a page walks
    # (``sql.meta_listing``). ``None``: not resolved (the first, every reading).
    meta_lead: int | None = None
    meta_kinds: tuple[str, ...] | None = None
    # How many images a common ``meta`` value keeps in scope, when ``resolve`` read it
    # with the values' counts (PostgreSQL: ``sql/pg_meta_counts.py``). Exact, as above.
    meta_count: int | None = None
    # An API key's folders (``folder_limit.py``): only images inside them, whatever else.
    limit: FolderLimit | None = None

    def __post_init__(self) -> None:
        if self.recursive and self.folder is None:  # the top level and below: everything
            object.__setattr__(self, "folder", ALL_FOLDERS)
            object.__setattr__(self, "recursive", False)
        if not self.recursive or self.folder is ALL_FOLDERS:
            object.__setattr__(self, "recursive", False)  # it changes nothing: one filter
        if self.ids is not None:
            object.__setattr__(self, "ids", tuple(sorted(set(self.ids))))
        object.__setattr__(self, "meta", tuple(sorted(set(self.meta), key=_meta_order)))

    @property
    def unscoped(self) -> bool:
        """Whether every image is in scope: no folder, not only the undescribed, no API
        key's folders (the search, ``meta``, ``ids`` may still narrow it)."""
        return self.folder is ALL_FOLDERS and not self.undescribed and self.limit is None

    def fingerprint(self) -> str:
        """What the filter keeps, as text: equal for two filters keeping the same images
        by the same rule (a cursor is bound to it). Not ``matches_*``/``meta_*``, caches."""
        return repr(
            (
                "v1",
                repr(self.folder),
                fold(self.search) if self.search else None,
                self.undescribed,
                self.recursive,
                self.ids,
                tuple((m.key, m.text) for m in self.meta),
            )
        )

    def matches(self, record: ImageRecord) -> bool:
        """Whether ``record`` is one of this filter's images: the rule the SQL answers."""
        if self.folder is not ALL_FOLDERS and record.folder != self.folder:
            inside = self.recursive and (record.folder or "").startswith(f"{self.folder}/")
            if not inside:
                return False
        if self.undescribed and record.alt_text is not None:
            return False
        if self.limit is not None and not self.limit.allows(record.folder):
            return False
        if self.search:
            haystack = search_text(record.filename, record.original_filename, record.alt_text)
            if fold(self.search) not in haystack:
                return False
        if self.ids is not None and record.id not in self.ids:
            return False
        if self.meta:
            metadata = record.custom_metadata
            if not all(m.matches(metadata) for m in self.meta):
                return False
        return True


def _meta_order(m: MetaFilter) -> tuple[str, str]:
    return (m.key, m.text)
