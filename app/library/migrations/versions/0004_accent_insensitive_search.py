"""Search ignores accents: ``search_text`` recomputed with the new ``filters.fold``.

``cafe`` finds ``café`` and ``café`` finds ``cafe`` (issue 12): the stored text and the
term are both folded by ``filters.fold``, which now also drops combining accents. Only
rows whose text changes are written (a name without accents is untouched), so the
trigram index is updated by its trigger for those rows alone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import unicodedata
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from imageshelf.app.library.filters import search_text

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _previous_search_text(filename: str, original: str, alt: str | None) -> str:
    # The rule before this revision: case-folded and NFC, accents kept.
    joined = "\x1f".join((filename, original, alt or ""))
    return unicodedata.normalize("NFC", joined.casefold())


def _recompute(compute: Callable[[str, str, str | None], str]) -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT pk, filename, original_filename, alt_text, search_text FROM images")
    ).all()
    changed = [
        {"pk": pk, "s": new}
        for pk, name, original, alt, old in rows
        if (new := compute(name, original, alt)) != old
    ]
    if changed:
        conn.execute(sa.text("UPDATE images SET search_text = :s WHERE pk = :pk"), changed)


def upgrade() -> None:
    _recompute(search_text)


def downgrade() -> None:
    _recompute(_previous_search_text)
