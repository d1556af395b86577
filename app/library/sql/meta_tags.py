"""DIALECT (SQLite): ``meta.KEY=VALUE`` values as tags in the trigram index (migration
0023), so the images common values and a search term have in common are one FTS5 query
(``meta_listing.search_among``).

``meta_tags`` gives each (key, kind, value) some image has had an id, never reused;
``images_fts``'s column ``meta_tags`` holds each image's tags, each the id written as
three characters of the Private Use Area: one trigram, meaning exactly that value (no
search text is taken for one: a query names the column, and a term holding such a
character is not looked up in the index, ``listing.indexed_term``)."""

from __future__ import annotations

from sqlalchemy import Connection

from .dialect import run

# The rows holding every value's tag and the term's cover (``query``), at most one over
# the cap (``:over``).
TAGGED_SQL = "SELECT rowid FROM images_fts WHERE images_fts MATCH :tagged LIMIT :over"


def tag_of(tag_id: int) -> str:
    """The tag of ``meta_tags`` row ``tag_id`` as ``images_fts`` indexes it: base-6400
    digits from U+E000, as the migration's triggers write them."""
    return "".join(
        chr(0xE000 + d) for d in (tag_id % 6400, tag_id // 6400 % 6400, tag_id // 40960000)
    )


def query(conn: Connection, values: list[str], params: dict[str, object], cover: str) -> str | None:
    """An FTS5 query of the rows holding a tag of each of ``values`` (conditions on
    ``meta_tags``' key, kind and value, with ``params``: ``meta_listing.ranges``, so a
    tag is what the value's index range holds) and the term's trigram ``cover``. FTS5
    ANDs the doclists itself, skipping through them, where merging the values' index
    entries with the cover's matches costs ≈ 3× as much (10,000 entries and 7,925
    matches at 100,000 images: 0.8 ms against 2.3). The cover is a superset of the
    term's matches (the caller confirms them). ``None`` when a value has no tag: no
    image has ever had it."""
    sql = " UNION ALL ".join(
        f"SELECT {n}, id FROM meta_tags WHERE {v}" for n, v in enumerate(values)
    )
    found: dict[int, list[str]] = {}
    for n, tag_id in (tuple(r) for r in run(conn, sql, params)):
        found.setdefault(n, []).append(f'"{tag_of(tag_id)}"')
    if len(found) < len(values):
        return None
    tags = " AND ".join(f"meta_tags : ({' OR '.join(t)})" for t in found.values())
    return f"{tags} AND ({cover})"
