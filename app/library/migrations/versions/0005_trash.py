"""The trash (issue 13) and the library's settings.

- ``trash``: an image moved to the trash keeps its row here, column for column as it was
  in ``images`` (id, alt text, metadata, timestamps), plus ``deleted_at`` and the
  write-ahead intent of a trash or restore in flight (``intent``, ``intent_path``). The
  row leaves ``images``, so listings, folder counts, their triggers, the search index and
  the free-name check see only live images without a single query changing. Every column
  of ``images`` but ``pk`` and ``pending_path`` must exist here too: a migration that
  adds one to ``images`` adds it to ``trash`` (``tests/library/test_trash_schema.py``).
- ``settings``: small library-wide settings (key → JSON value), e.g. the trash's
  retention in days; kept in the database so the window, the server and the CLI agree.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trash",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("folder", sa.Text, nullable=False, server_default=""),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("original_filename", sa.Text, nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("alt_text", sa.Text, nullable=True),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("deleted_at", sa.BigInteger, nullable=False),
        sa.Column("intent", sa.String(16), nullable=True),
        sa.Column("intent_path", sa.Text, nullable=True),
    )
    op.create_index("ix_trash_deleted", "trash", ["deleted_at", "id"])
    op.create_index("ix_trash_sha256", "trash", ["sha256"])
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_index("ix_trash_sha256", "trash")
    op.drop_index("ix_trash_deleted", "trash")
    op.drop_table("trash")
