"""Share links (issue 19): ``shares`` and ``share_images``.

- ``shares``: one link. ``token_hash`` is the SHA-256 of the link's token (256 random
  bits, never stored itself); ``folder`` (``""`` the root) with ``recursive`` makes a live
  folder share, ``NULL`` an image-list share whose ids are in ``share_images``;
  ``expires_at`` ``NULL`` never expires; ``password_hash`` a scrypt hash or ``NULL``;
  ``session_secret`` signs the cookie a right password earns; ``revoked_at`` set on
  revocation (the row stays: a revoked token is told apart from nothing only in logs).
- ``share_images``: the images of an image-list share, in the order given.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # DIALECT: PostgreSQL's boolean does not take 0 as its default.
    false = sa.text("false" if op.get_bind().dialect.name == "postgresql" else "0")
    op.create_table(
        "shares",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("folder", sa.Text, nullable=True),
        sa.Column("recursive", sa.Boolean, nullable=False, server_default=false),
        sa.Column("expires_at", sa.BigInteger, nullable=True),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("session_secret", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "share_images",
        sa.Column("share_id", sa.String(40), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("image_id", sa.String(40), nullable=False),
    )
    op.create_index("ix_share_images_image", "share_images", ["share_id", "image_id"])


def downgrade() -> None:
    op.drop_index("ix_share_images_image", table_name="share_images")
    op.drop_table("share_images")
    op.drop_table("shares")
