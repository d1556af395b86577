"""The database schema, SQLAlchemy 2 style. Alembic migrations create and evolve it.

Times are integers (microseconds since the epoch, UTC): cheap to index and sort, and
formatted as RFC 3339 only at the edge. The root folder is stored as ``""`` so that
``(folder, filename)`` can be unique and indexed; the public API shows it as ``None``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .exif_facts import TAKEN_SORT_SQL


class Base(DeclarativeBase):
    pass


class ExifColumns:
    """0009: what the file's EXIF says (``exif_facts.py``), read once when the image came
    in; ``exif_read`` is the reader's version that filled them, NULL until read (rows
    older than 0009: the background fill, ``exif_fill.py``, reads them). Both ``images``
    and ``trash`` carry them, so the facts travel to the trash and back."""

    make: Mapped[str | None] = mapped_column(Text, nullable=True)
    model: Mapped[str | None] = mapped_column(Text, nullable=True)
    lens_model: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The date taken as written (wall clock, µs since 1970-01-01T00:00 of that clock).
    taken_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    taken_offset_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    exposure_time: Mapped[str | None] = mapped_column(Text, nullable=True)
    f_number: Mapped[float | None] = mapped_column(Float, nullable=True)
    iso: Mapped[int | None] = mapped_column(Integer, nullable=True)
    focal_length_mm: Mapped[float | None] = mapped_column(Float, nullable=True)
    orientation: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    altitude_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    exif_read: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ImageRow(ExifColumns, Base):
    __tablename__ = "images"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    folder: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    filename: Mapped[str] = mapped_column(Text)
    original_filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    alt_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # 0006: IPTC Extended Description (Accessibility), for what alt text cannot hold.
    long_description: Mapped[str | None] = mapped_column(Text, nullable=True)
    # 0008: contract Part 2's custom_metadata, compact JSON text; NULL for none.
    custom_metadata: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Case-folded filename, original name and alt text, for literal substring search.
    search_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    # Write-ahead intent of a move in flight: "folder\x1ffilename" of the destination.
    pending_path: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        UniqueConstraint("folder", "filename", name="uq_images_path"),
        # postgresql_include (a team library): the row id SQLite's indexes hold anyway.
        Index("ix_images_order", "created_at", "id", postgresql_include=["pk"]),
        Index("ix_images_folder_order", "folder", "created_at", "id", postgresql_include=["pk"]),
        Index("ix_images_sha256", "sha256"),
        # 0002: the "needs alt text" view walks partial indexes; the name sort its own.
        Index(
            "ix_images_undescribed_order",
            "created_at",
            "id",
            sqlite_where=text("alt_text IS NULL"),
            postgresql_where=text("alt_text IS NULL"),
            postgresql_include=["pk"],
        ),
        Index(
            "ix_images_folder_undescribed_order",
            "folder",
            "created_at",
            "id",
            sqlite_where=text("alt_text IS NULL"),
            postgresql_where=text("alt_text IS NULL"),
            postgresql_include=["pk"],
        ),
        Index("ix_images_name", text("filename COLLATE NOCASE"), "id"),
        # 0008: a folder by name, as ix_images_folder_order is a folder by date.
        Index("ix_images_folder_name", "folder", text("filename COLLATE NOCASE"), "id"),
        # 0009/0012: sort=taken (undated last: exif_facts.TAKEN_SORT_SQL), whole and per
        # folder; taken_at last so the index covers the query (SQLite reads the ORDER BY
        # expression from the row otherwise).
        Index("ix_images_taken_order", text(TAKEN_SORT_SQL), "created_at", "id", "taken_at"),
        Index(
            "ix_images_folder_taken_order",
            "folder",
            text(TAKEN_SORT_SQL),
            "created_at",
            "id",
            "taken_at",
        ),
    )


class ImageMetadata(Base):
    """0008: one row per key of an image's custom_metadata, kept by triggers from
    ``images.custom_metadata``, so ``meta.KEY=VALUE`` is an index lookup. ``kind``:
    text, number, boolean; ``value`` as ``json_each`` reads it (booleans 1/0), in a
    column without type affinity (BLOB) so ``'12'`` and ``12`` stay apart.

    0014: each row also carries its image's folder, created_at, id and ``alt_text IS
    NULL`` (kept by the same triggers), so a value's images in newest/oldest order, in a
    folder or not, are one range of an index (``sql/meta_listing.py``). 0018: and its
    filename and taken_at, for the same in name and taken order."""

    __tablename__ = "image_metadata"

    image_pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    # A team library (PostgreSQL) has no typeless column: text there (migration 0008).
    value: Mapped[bytes] = mapped_column(LargeBinary().with_variant(Text(), "postgresql"))
    folder: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    id: Mapped[str] = mapped_column(String(40))
    undescribed: Mapped[bool] = mapped_column(Boolean)
    filename: Mapped[str] = mapped_column(Text)
    taken_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (
        # folder and undescribed last: tested on the entry walked, never read from the row.
        Index(
            "ix_image_metadata_order",
            "key",
            "kind",
            "value",
            "created_at",
            "id",
            "folder",
            "undescribed",
        ),
        Index(
            "ix_image_metadata_folder_order",
            "key",
            "kind",
            "value",
            "folder",
            "created_at",
            "id",
            "undescribed",
        ),
        # One image's entry for a filter, narrower than the table's rows (meta_listing.PROBE).
        Index("ix_image_metadata_probe", "image_pk", "key", "kind", "value"),
        # 0018: one value in pk order (the substring index's order: meta_listing.search_among),
        # by name and by date taken (listing's keys), whole and per folder.
        Index("ix_image_metadata_value", "key", "kind", "value", "image_pk"),
        Index(
            "ix_image_metadata_name",
            "key",
            "kind",
            "value",
            text("filename COLLATE NOCASE"),
            "id",
            "folder",
            "undescribed",
        ),
        Index(
            "ix_image_metadata_folder_name",
            "key",
            "kind",
            "value",
            "folder",
            text("filename COLLATE NOCASE"),
            "id",
            "undescribed",
        ),
        Index(
            "ix_image_metadata_taken",
            "key",
            "kind",
            "value",
            text(TAKEN_SORT_SQL),
            "created_at",
            "id",
            "taken_at",
            "folder",
            "undescribed",
        ),
        Index(
            "ix_image_metadata_folder_taken",
            "key",
            "kind",
            "value",
            "folder",
            text(TAKEN_SORT_SQL),
            "created_at",
            "id",
            "taken_at",
            "undescribed",
        ),
        {"sqlite_with_rowid": False},
    )


class Tombstone(Base):
    """A deleted id, kept so the proxy can answer 410 Gone rather than 404."""

    __tablename__ = "tombstones"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    deleted_at: Mapped[int] = mapped_column(BigInteger)


class TrashRow(ExifColumns, Base):
    """An image in the trash: its ``images`` row as it was (every column but ``pk`` and
    ``pending_path``), when it was deleted, and the intent of a trash or restore in
    flight (``intent`` "trashing"/"restoring", ``intent_path`` "folder\x1ffilename")."""

    __tablename__ = "trash"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    folder: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    filename: Mapped[str] = mapped_column(Text)
    original_filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    alt_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # 0006, as in ``images``.
    long_description: Mapped[str | None] = mapped_column(Text, nullable=True)
    custom_metadata: Mapped[str | None] = mapped_column(Text, nullable=True)  # 0008
    search_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    deleted_at: Mapped[int] = mapped_column(BigInteger)
    intent: Mapped[str | None] = mapped_column(String(16), nullable=True)
    intent_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    # 0017: the team process whose trash or restore is in flight (``sql/owners.py``).
    owner: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (
        Index("ix_trash_deleted", "deleted_at", "id"),
        Index("ix_trash_sha256", "sha256"),
    )


class KeptFolder(Base):
    """0017: a folder a person made, on a storage whose folders are rows (an object
    store): it stays, empty or not, until deleted (``folder_ops.py``)."""

    __tablename__ = "kept_folders"

    path: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class Setting(Base):
    """A library-wide setting (JSON value), e.g. the trash's retention in days."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class FolderCount(Base):
    """Images per folder, kept by triggers so folders() never scans the images table."""

    __tablename__ = "folder_counts"

    folder: Mapped[str] = mapped_column(Text, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    # 0003: images without alt text in the folder, for the "needs alt text" total.
    undescribed: Mapped[int] = mapped_column(Integer, server_default="0")


class IgnoredFile(Base):
    """A file in the folder that is not an acceptable image, remembered by size and mtime
    so reconciliation neither re-reads nor re-reports it until it changes."""

    __tablename__ = "ignored_files"

    path: Mapped[str] = mapped_column(Text, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)


class Change(Base):
    """0007: one committed change to an image, numbered in its own transaction by
    triggers (see the migration); read by ``changes.py`` for ``GET /v3/events``."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_at", "at"), {"sqlite_autoincrement": True})

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(32))
    image_id: Mapped[str] = mapped_column(String(40))


class IdempotencyKey(Base):
    """0007: a request made with an ``Idempotency-Key``, per API key (``principal``, a
    hash of the bearer token): its fingerprint, and once finished the answer replayed to
    a retry (``status`` NULL while the first is still running)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created", "created_at"),)

    principal: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    endpoint: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    headers: Mapped[str | None] = mapped_column(Text, nullable=True)
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    # 0017: the team process running the request (``sql/owners.py``); NULL otherwise.
    owner: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ShareRow(Base):
    """0011: a share link (``shares.py``): the SHA-256 of its token, what it shares (a
    live ``folder``, ``""`` the root, or the ids in ``share_images``), its expiry, an
    optional scrypt password hash, the secret that signs its password cookie, when it
    was made and revoked."""

    __tablename__ = "shares"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    folder: Mapped[str | None] = mapped_column(Text, nullable=True)
    # false(): 0 on SQLite, false on PostgreSQL (a team library), as 0011 makes it.
    recursive: Mapped[bool] = mapped_column(Boolean, server_default=false())
    expires_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    session_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ShareImage(Base):
    """0011: the images of an image-list share, in the order they were given."""

    __tablename__ = "share_images"
    __table_args__ = (Index("ix_share_images_image", "share_id", "image_id"),)

    share_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[str] = mapped_column(String(40))


class DownloadJob(Base):
    """0010: a download job (``POST /v3/images/downloads``); see ``downloads.py``."""

    __tablename__ = "download_jobs"
    __table_args__ = (Index("ix_download_jobs_expires", "expires_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    count: Mapped[int] = mapped_column(Integer)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    missing: Mapped[str] = mapped_column(Text)  # a JSON list of image ids
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    # 0019: the team process preparing it (``sql/owners.py``); NULL otherwise.
    owner: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class DownloadEntry(Base):
    """0010: one file of a download job's frozen list, in archive order."""

    __tablename__ = "download_entries"

    job_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[str] = mapped_column(String(40))
    relpath: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    crc32: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ApiKey(Base):
    """0012: an API key (``keys.py``): scope, folder limits (JSON list, NULL: all),
    expiry, and the SHA-256 of its secret — never the secret."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_secret_hash", "secret_hash", unique=True),)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    folders: Mapped[str | None] = mapped_column(Text, nullable=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
