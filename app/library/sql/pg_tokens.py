"""DIALECT (PostgreSQL): the images a common ``meta.KEY=VALUE`` value and a common search
term have in common, from one index (migration 0025), as SQLite's FTS5 finds them from
its tags (0023).

Each image's *tokens* (``image_tokens(search_text, custom_metadata)``, an immutable
function of two of its columns) are the words of its search text that a term can lie in
(0022's tokens: cut at spaces and the fields' separator, 3+ characters) and one token per
custom_metadata value, ``\\x1fKEY\\x1fKIND\\x1fVALUE`` (0008's kind and value, as
``image_metadata`` holds them; no word holds ``\\x1f``). A GIN index of them answers
"a word holding the term, and this value (any of its readings), and that value" in one
scan: GIN intersects its own lists of rows, and only the few hundred rows in common are
visited. Before, a value's 10,000 index entries were each probed against a hash of the
term's 8,000 word entries (``meta_listing.search_among``, ≈ 4 ms of a 9.6 ms page).

Exact: a term without a space or the separator lies within one token of 3+ characters
(``pg_search.in_one_word``), the words holding it are the vocabulary's (``search_vocab``
holds every word of every image's text), and a value's token is the same
``(key, kind, value)`` an ``image_metadata`` row has."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from ..custom_metadata import MetaFilter
from ..filters import Filter, Sort
from . import pg_search
from .dialect import pg_number, run
from .orders import ORDER

# The indexed expression, spelled as the index has it (the planner matches it as text).
TOKENS = "image_tokens(search_text, custom_metadata)"
SEPARATOR = "\x1f"


def value_tokens(meta: MetaFilter) -> list[str]:
    """The tokens of ``meta``'s readings: the text, and the number or boolean it reads
    as (0008's spelling of each: the shortest decimal, ``1``/``0``)."""
    values = [("text", meta.text)]
    if meta.number is not None:
        values.append(("number", pg_number(meta.number)))
    if meta.boolean is not None:
        values.append(("boolean", str(int(meta.boolean))))
    return [SEPARATOR.join(("", meta.key, kind, value)) for kind, value in values]


def answers(search: tuple[str, dict[str, object]]) -> bool:
    """Whether ``search`` (``listing._search_of``: a query of a term's matches) is the
    words' (a term within one word), which the tokens answer with the values."""
    return search[0] == pg_search.WORD_MATCHES


@dataclass(frozen=True, slots=True)
class Among:
    """What ``meta_listing.resolve_meta`` asks the tokens beside its counts: the term's
    ``LIKE`` pattern, the cap, and the sort to list them in (``None``: pk order)."""

    like: str
    cap: int
    sort: Sort | None


def query(flt: Filter, among: Among, params: dict[str, object]) -> str:
    """A scalar query of the pks (an array, ``NULL`` for none) of the images holding a
    word that matches the term and a token of each meta value, in ``among.sort``'s
    order, at most one over the cap; its parameters into ``params`` (named ``tok…``,
    beside a statement's own). Their rows are visited anyway (the index gives rows, not
    pks), so sorting the few hundred costs little, and a page of them is then a slice.
    array_agg keeps the order its sorted subquery gives it."""
    params["tok_over"] = among.cap + 1
    order = ORDER[among.sort] if among.sort is not None else "pk"
    return (
        f"(SELECT array_agg(pk) FROM (SELECT pk FROM images WHERE {tests(flt, among.like, params)} "
        f"ORDER BY {order} LIMIT :tok_over) AS common)"
    )


def tests(flt: Filter, like: str | None, params: dict[str, object]) -> str:
    """The test of an image's tokens for a word matching ``like`` (the term's ``LIKE``
    pattern; ``None``: no term) and a reading of each meta value, one scan of the GIN
    index; its parameters into ``params`` (``tok_like``, ``tok0``…)."""
    found = []
    if like is not None:
        params["tok_like"] = like
        found.append(f"{TOKENS} && ARRAY(SELECT word FROM search_vocab WHERE word LIKE :tok_like)")
    for n, meta in enumerate(flt.meta):
        params[f"tok{n}"] = value_tokens(meta)
        found.append(f"{TOKENS} && CAST(:tok{n} AS text[])")
    return " AND ".join(found)


def listed(found: object, cap: int) -> list[int] | None:
    """``query``'s answer: the pks, or ``None`` when more than ``cap``."""
    pks = [int(pk) for pk in found or []]  # type: ignore[attr-defined]
    return None if len(pks) > cap else pks


def among(conn: Connection, flt: Filter, among: Among) -> list[int] | None:
    """``query``'s pks on their own, or ``None`` when more than the cap."""
    params: dict[str, object] = {}
    return listed(run(conn, "SELECT " + query(flt, among, params), params).scalar_one(), among.cap)
