"""The schema the migrations build is the one ``models.py`` declares: Alembic's
autogenerate (``compare_metadata``) finds no drift, so the next migration written from the
models will not undo an index or a column by accident."""

from __future__ import annotations

import re
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Index, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex

from imageshelf.app.library import Library
from imageshelf.app.library.models import Base

# Made by raw SQL in the migrations and invisible to SQLAlchemy's metadata: the FTS5
# table (and the shadow tables FTS5 keeps for it), the ids of the meta values' tags it
# indexes (0023, SQLite's alone: ``sql/meta_tags.py``), the words and their FTS5 index
# (0028, SQLite's alone: ``sql/sqlite_search.py``) and Alembic's own version table.
_NOT_MODELLED = re.compile(
    r"^(images_fts(_.*)?|meta_tags|search_vocab(_fts(_.*)?)?|search_words|alembic_version)$"
)
# SQLite's reflection reports an index's columns but not their collation, so an index on
# ``filename COLLATE NOCASE`` would show as a difference; it is compared by its DDL below.
_COMPARED_BY_DDL = {
    "ix_images_name",
    "ix_images_folder_name",
    # On an expression (0009): SQLAlchemy cannot reflect them (and says so, in a warning).
    "ix_images_taken_order",
    "ix_images_folder_taken_order",
    # 0018: image_metadata by name and by date taken (a collation, an expression).
    "ix_image_metadata_name",
    "ix_image_metadata_folder_name",
    "ix_image_metadata_taken",
    "ix_image_metadata_folder_taken",
}


def _include(obj: Any, name: str | None, type_: str, reflected: bool, _other: Any) -> bool:
    if type_ == "table" and name and _NOT_MODELLED.match(name):
        return False
    return not (type_ == "index" and name in _COMPARED_BY_DDL)


def _squash(sql: str) -> str:
    return re.sub(r"\s+", " ", sql.replace('"', "")).strip().lower()


# The expression indexes are compared by their DDL below; Alembic and SQLAlchemy say
# (in warnings) that they cannot reflect them.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrated_schema_has_no_autogenerate_drift(library: Library) -> None:
    with library.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": _include,
            },
        )
        assert compare_metadata(context, Base.metadata) == []


def test_every_declared_index_is_created_exactly_as_declared(library: Library) -> None:
    with library.engine.connect() as conn:
        created = {
            row.name: _squash(row.sql)
            for row in conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql NOT NULL")
            )
        }
    declared: dict[str, str] = {}
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            assert isinstance(index, Index)
            ddl = str(CreateIndex(index).compile(dialect=sqlite.dialect()))
            declared[str(index.name)] = _squash(ddl)
    assert declared == created
