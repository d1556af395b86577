"""API keys with scopes (issue 19, the contract's "API keys and scopes").

One row per key: its name (what a person revokes it by), scope (read, upload, edit,
admin), the folders it is limited to (a JSON list; NULL: every folder), when it was
made, when it expires (NULL: never) and when it was last used (written at most once a
minute per key, not per request). The secret itself is never stored: ``secret_hash`` is
its SHA-256 (see ``app/library/keys.py`` for why not bcrypt), unique, so a request's key
is found with one indexed read.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("folders", sa.Text, nullable=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=True),
        sa.Column("last_used_at", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_api_keys_secret_hash", "api_keys", ["secret_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_api_keys_secret_hash", "api_keys")
    op.drop_table("api_keys")
