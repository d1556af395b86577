"""The schema the migrations build on PostgreSQL is the one ``models.py`` declares, as
on SQLite (tests/library/test_schema_matches_models.py): no autogenerate drift."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from imageshelf.app.library.models import Base
from imageshelf.app.library.sql.engine import head_revision, make_engine

# PostgreSQL-only objects made by raw SQL (migration 0016): the narrow copy of the search
# text whose trigram index stands in for FTS5, compared by its definition below; (0022)
# the words of the search text and the sorts' page ranges.
_PG_ONLY = {
    "image_search",
    "ix_image_search",
    "search_vocab",
    "search_words",
    "order_marks",
    "meta_value_counts",
}
# On expressions (NOCASE is SQLite's; nocase() here): compared by their definition below.
_BY_DEFINITION = {
    "ix_images_name": (
        "CREATE INDEX ix_images_name ON public.images USING btree (nocase(filename), id) "
        "INCLUDE (pk, filename)"
    ),
    "ix_images_folder_name": (
        "CREATE INDEX ix_images_folder_name ON public.images USING btree "
        "(folder, nocase(filename), id) INCLUDE (pk, filename)"
    ),
    "ix_images_taken_order": (
        "CREATE INDEX ix_images_taken_order ON public.images USING btree "
        "(COALESCE(taken_at, (created_at + '-4611686018427387904'::bigint)), created_at, id, "
        "taken_at) INCLUDE (pk)"
    ),
    "ix_images_folder_taken_order": (
        "CREATE INDEX ix_images_folder_taken_order ON public.images USING btree (folder, "
        "COALESCE(taken_at, (created_at + '-4611686018427387904'::bigint)), created_at, id, "
        "taken_at) INCLUDE (pk)"
    ),
}
# 0018's name and taken orders of image_metadata, on expressions too (filename included in
# the name ones by 0020, for index-only walks): compared by their definition.
_METADATA_BY_DEFINITION = {
    "ix_image_metadata_name": (
        "CREATE INDEX ix_image_metadata_name ON public.image_metadata USING btree "
        "(key, kind, value, nocase(filename), id) INCLUDE (folder, undescribed, image_pk, "
        "filename)"
    ),
    "ix_image_metadata_folder_name": (
        "CREATE INDEX ix_image_metadata_folder_name ON public.image_metadata USING btree "
        "(key, kind, value, folder, nocase(filename), id) INCLUDE (undescribed, image_pk, "
        "filename)"
    ),
    "ix_image_metadata_taken": (
        "CREATE INDEX ix_image_metadata_taken ON public.image_metadata USING btree "
        "(key, kind, value, COALESCE(taken_at, (created_at + '-4611686018427387904'::bigint)), "
        "created_at, id, taken_at) INCLUDE (folder, undescribed, image_pk)"
    ),
    "ix_image_metadata_folder_taken": (
        "CREATE INDEX ix_image_metadata_folder_taken ON public.image_metadata USING btree "
        "(key, kind, value, folder, "
        "COALESCE(taken_at, (created_at + '-4611686018427387904'::bigint)), "
        "created_at, id, taken_at) INCLUDE (undescribed, image_pk)"
    ),
}
_SEARCH_INDEXES = {
    "image_search_pkey": (
        "CREATE UNIQUE INDEX image_search_pkey ON public.image_search USING btree (pk)"
    ),
    "ix_image_search": (
        "CREATE INDEX ix_image_search ON public.image_search USING gin (search_text gin_trgm_ops)"
    ),
}

# 0022: each table's primary key is the index its readers walk.
_WORDS_INDEXES = {
    "search_vocab_pkey": (
        "CREATE UNIQUE INDEX search_vocab_pkey ON public.search_vocab USING btree (word)"
    ),
    "ix_search_vocab": (
        "CREATE INDEX ix_search_vocab ON public.search_vocab USING gin (word gin_trgm_ops)"
    ),
    "search_words_pkey": (
        "CREATE UNIQUE INDEX search_words_pkey ON public.search_words USING btree (word, image_pk)"
    ),
    "order_marks_pkey": (
        "CREATE UNIQUE INDEX order_marks_pkey ON public.order_marks USING btree (sort, lo, lo_name)"
    ),
    # 0027: one row per meta value reading, read by its key.
    "meta_value_counts_pkey": (
        "CREATE UNIQUE INDEX meta_value_counts_pkey ON public.meta_value_counts "
        "USING btree (key, kind, value)"
    ),
}
# 0025: each image's tokens (its words and its meta values), one GIN index on images.
_TOKENS_INDEX = (
    "CREATE INDEX ix_images_tokens ON public.images USING gin "
    "(image_tokens(search_text, custom_metadata))"
)


def _include(obj: Any, name: str | None, type_: str, reflected: bool, _other: Any) -> bool:
    if type_ == "table" and name == "alembic_version":
        return False
    if type_ == "table" and name in _PG_ONLY:
        return False
    by_definition = (
        name in _BY_DEFINITION or name in _METADATA_BY_DEFINITION or name == "ix_images_tokens"
    )
    return not (type_ == "index" and (by_definition or name in _PG_ONLY))


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrated_pg_schema_has_no_autogenerate_drift(pg_database: str) -> None:
    engine = make_engine(pg_database)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                head_revision()
            )
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    "include_object": _include,
                },
            )
            assert compare_metadata(context, Base.metadata) == []
            defined = dict(
                conn.execute(
                    text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'images'")
                ).all()
            )
            metadata = dict(
                conn.execute(
                    text(
                        "SELECT indexname, indexdef FROM pg_indexes "
                        "WHERE tablename = 'image_metadata'"
                    )
                ).all()
            )
            search = dict(
                conn.execute(
                    text(
                        "SELECT indexname, indexdef FROM pg_indexes "
                        "WHERE tablename = 'image_search'"
                    )
                ).all()
            )
            words = dict(
                conn.execute(
                    text(
                        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
                        "('search_vocab', 'search_words', 'order_marks', 'meta_value_counts')"
                    )
                ).all()
            )
        for name, definition in _BY_DEFINITION.items():
            assert defined[name] == definition
        assert defined["ix_images_tokens"] == _TOKENS_INDEX
        assert "ix_images_search" not in defined  # moved to image_search (0016)
        assert search == _SEARCH_INDEXES
        assert words == _WORDS_INDEXES
        for name, definition in _METADATA_BY_DEFINITION.items():
            assert metadata[name] == definition
    finally:
        engine.dispose()
