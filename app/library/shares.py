"""Share links (contract Part 2, "Share links"), kept in the library's database (``shares``
and ``share_images``, migration 0011): ``library.shares``.

A share is either a list of images (in the order given) or a live folder (with or without
the folders below it: images added later are shared too). It opens by its token (only the
token's hash is stored), may expire, may need a password, and is revoked at once: every
request under ``/s/`` looks the share up again, so nothing outlives a revoke but what a
client may cache (``SHARE_MAX_AGE_S``). Share rows are bookkeeping, not files: each write
is one short transaction under the library's write lock."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

from . import folders_keyed, rules, shares_secrets
from .core import Core
from .errors import Busy, Gone, InvalidInput, NotFound
from .filters import Filter, Sort
from .records import ImageRecord, Page, now_us
from .sql import listing, rows

# Password checks running at once, process-wide (each holds scrypt's 16 MiB).
_PASSWORD_CHECKS = threading.BoundedSemaphore(rules.SHARE_PASSWORD_CHECKS)

_COLUMNS = (
    "id, folder, recursive, expires_at, password_hash, session_secret, created_at, revoked_at"
)


@dataclass(frozen=True, slots=True)
class Share:
    id: str
    # ``None``: a list of images (``image_ids``); else a live folder, ``""`` the root.
    folder: str | None
    recursive: bool
    expires_at_us: int | None
    password_hash: str | None
    session_secret: str
    created_at_us: int
    revoked_at_us: int | None

    @property
    def is_folder(self) -> bool:
        return self.folder is not None

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def expired(self, now: int | None = None) -> bool:
        return self.expires_at_us is not None and (now or now_us()) >= self.expires_at_us

    @property
    def scope(self) -> Filter:
        """The images of a folder share, as a listing filter."""
        return Filter(folder=self.folder or None, recursive=self.recursive)


@dataclass(frozen=True, slots=True)
class NewShare:
    share: Share
    token: str  # shown once: only its hash is kept


def _share(row: Sequence[object]) -> Share:
    sid, folder, recursive, expires, pw, secret, created, revoked = row
    return Share(
        id=str(sid),
        folder=None if folder is None else str(folder),
        recursive=bool(recursive),
        expires_at_us=None if expires is None else int(str(expires)),
        password_hash=None if pw is None else str(pw),
        session_secret=str(secret),
        created_at_us=int(str(created)),
        revoked_at_us=None if revoked is None else int(str(revoked)),
    )


class ShareStore:
    """``library.shares``. Thread-safe: each call its own transaction."""

    def __init__(self, core: Core) -> None:
        self.core = core

    # --- making, listing, revoking -------------------------------------------------------

    def _folder_known(self, folder: str) -> bool:
        """Whether the library has ``folder``: a directory in a folder library (an
        empty one too); on an object store, whose folders are rows, one with images in
        it or below, or a kept one (``folders_keyed``)."""
        if self.core.storage.keys_follow_names:
            return self.core.folder_path(folder).is_dir()
        return folders_keyed.exists(self.core, folder)

    def create(
        self,
        *,
        image_ids: object = None,
        folder: object = None,
        recursive: object = False,
        expires_in: object = None,
        password: object = None,
        folder_share: bool = False,
    ) -> NewShare:
        """An image-list share (``image_ids``) or, with ``folder_share``, a live share
        of ``folder`` (``None``/``""`` the root). Unknown images are 404, deleted 410;
        a folder that is not in the library is 404."""
        if not isinstance(recursive, bool):
            raise InvalidInput("recursive must be true or false.")
        seconds = rules.check_expires_in(expires_in)
        secret_word = rules.check_share_password(password)
        ids: list[str] = []
        stored_folder: str | None = None
        if folder_share:
            canonical = rules.normalize_folder(folder)
            if canonical is not None and not self._folder_known(canonical):
                raise NotFound(f"There is no folder {canonical!r} in the library.")
            stored_folder = canonical or ""
        else:
            if recursive:
                raise InvalidInput("recursive goes with folder, not with image_ids.")
            ids = rules.check_bulk_ids(image_ids, rules.MAX_SHARE_IMAGES)
        now = now_us()
        token = shares_secrets.new_token()
        share = Share(
            id=rules.new_share_id(),
            folder=stored_folder,
            recursive=bool(recursive) and folder_share,
            expires_at_us=None if seconds is None else now + seconds * 1_000_000,
            password_hash=(
                None if secret_word is None else shares_secrets.hash_password(secret_word)
            ),
            session_secret=shares_secrets.new_session_secret(),
            created_at_us=now,
            revoked_at_us=None,
        )
        with self.core.write() as conn:
            for image_id in ids:
                self.core.require(conn, image_id)  # 404 unknown, 410 deleted
            conn.execute(
                text(
                    f"INSERT INTO shares ({_COLUMNS}, token_hash) VALUES (:id, :folder, "
                    ":recursive, :expires, :pw, :secret, :created, NULL, :token)"
                ),
                {
                    "id": share.id,
                    "folder": share.folder,
                    "recursive": share.recursive,
                    "expires": share.expires_at_us,
                    "pw": share.password_hash,
                    "secret": share.session_secret,
                    "created": share.created_at_us,
                    "token": shares_secrets.token_hash(token),
                },
            )
            if ids:
                conn.execute(
                    text(
                        "INSERT INTO share_images (share_id, position, image_id) "
                        "VALUES (:s, :p, :i)"
                    ),
                    [{"s": share.id, "p": n, "i": i} for n, i in enumerate(ids)],
                )
        return NewShare(share, token)

    def active(self) -> list[Share]:
        """Shares not revoked (expired ones too: they say so), newest first."""
        with self.core.read() as conn:
            found = conn.execute(
                text(
                    f"SELECT {_COLUMNS} FROM shares WHERE revoked_at IS NULL "
                    "ORDER BY created_at DESC, id DESC"
                )
            ).all()
        return [_share(r) for r in found]

    def get(self, share_id: str) -> Share:
        """A share not revoked; ``NotFound`` else."""
        if not isinstance(share_id, str) or not rules.is_share_id(share_id):
            raise NotFound(f"There is no share link with id {share_id!r}.")
        with self.core.read() as conn:
            row = conn.execute(
                text(f"SELECT {_COLUMNS} FROM shares WHERE id = :id AND revoked_at IS NULL"),
                {"id": share_id},
            ).first()
        if row is None:
            raise NotFound(f"There is no share link {share_id} (or it was revoked).")
        return _share(row)

    def revoke(self, share_id: str) -> None:
        """At once: the next request under its ``/s/`` path is a 404."""
        self.get(share_id)
        with self.core.write() as conn:
            gone = conn.execute(
                text("UPDATE shares SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL"),
                {"now": now_us(), "id": share_id},
            ).rowcount
        if not gone:
            raise NotFound(f"There is no share link {share_id} (or it was revoked).")

    # --- opening by token ---------------------------------------------------------------

    def open(self, token: str) -> Share:
        """The share behind ``token``: ``NotFound`` when unknown or revoked, ``Gone``
        once expired."""
        if not token or len(token) > 256:
            raise NotFound("This share link does not exist or was revoked.")
        with self.core.read() as conn:
            row = conn.execute(
                text(f"SELECT {_COLUMNS} FROM shares WHERE token_hash = :h"),
                {"h": shares_secrets.token_hash(token)},
            ).first()
        if row is None:
            raise NotFound("This share link does not exist or was revoked.")
        share = _share(row)
        if share.revoked_at_us is not None:
            raise NotFound("This share link does not exist or was revoked.")
        if share.expired():
            raise Gone("This share link has expired; ask whoever sent it for a new one.")
        return share

    @staticmethod
    def check_password(share: Share, password: object) -> bool:
        """Whether ``password`` is the share's. Each check costs scrypt's memory (16 MiB)
        and time, so only a few run at once: past a short wait, ``Busy`` (503)."""
        if share.password_hash is None:
            return True
        if not isinstance(password, str) or len(password) > rules.MAX_SHARE_PASSWORD_CHARS:
            return False
        if not _PASSWORD_CHECKS.acquire(timeout=rules.SHARE_PASSWORD_WAIT_S):
            raise Busy("Too many passwords are being checked right now; try again shortly.")
        try:
            return shares_secrets.check_password(password, share.password_hash)
        finally:
            _PASSWORD_CHECKS.release()

    @staticmethod
    def session_value(share: Share) -> str:
        return shares_secrets.session_value(share.id, share.session_secret)

    @staticmethod
    def session_ok(share: Share, value: str | None) -> bool:
        return share.password_hash is None or shares_secrets.check_session(
            share.id, share.session_secret, value
        )

    # --- what a share holds ---------------------------------------------------------------

    def image_count(self, share: Share) -> int:
        with self.core.read() as conn:
            if share.is_folder:
                return listing.count(conn, share.scope)
            return int(
                conn.execute(
                    text(
                        "SELECT COUNT(*) FROM share_images s JOIN images i "
                        "ON i.id = s.image_id WHERE s.share_id = :s"
                    ),
                    {"s": share.id},
                ).scalar_one()
            )

    def images(self, share: Share, page: int = 1) -> Page:
        """A page of the share's images (``SHARE_PAGE_SIZE``): a folder's newest first,
        a list in its order; images deleted since are left out."""
        size = rules.SHARE_PAGE_SIZE
        rules.check_page(page, size)
        offset = (page - 1) * size
        with self.core.read() as conn:
            if share.is_folder:
                flt = listing.resolve(conn, share.scope)
                total = listing.count(conn, flt)
                items = listing.page(conn, flt, offset, size, Sort.NEWEST, total=total)
                return Page(items=items, total=total, page=page, page_size=size)
            records = self._listed(conn, share.id)
        return Page(records[offset : offset + size], len(records), page, size)

    @staticmethod
    def _listed(conn: Connection, share_id: str) -> list[ImageRecord]:
        ids = conn.execute(
            text("SELECT image_id FROM share_images WHERE share_id = :s ORDER BY position"),
            {"s": share_id},
        ).scalars()
        found = (rows.get(conn, str(i)) for i in ids)
        return [r for r in found if r is not None]

    def image(self, share: Share, image_id: str) -> ImageRecord:
        """An image of the share: ``NotFound`` when it is not one (whether or not it
        exists elsewhere in the library), ``Gone`` when it was deleted."""
        not_here = NotFound(f"The image {image_id!r} is not part of this share link.")
        if not isinstance(image_id, str) or not rules.is_image_id(image_id):
            raise not_here
        if share.is_folder:
            try:
                record = self.core.get(image_id)
            except NotFound:
                raise not_here from None
            if not share.scope.matches(record):
                raise not_here
            return record
        with self.core.read() as conn:
            listed = conn.execute(
                text("SELECT 1 FROM share_images WHERE share_id = :s AND image_id = :i"),
                {"s": share.id, "i": image_id},
            ).first()
            if listed is None:
                raise not_here
            return self.core.require(conn, image_id)


def describe_scope(share: Share) -> str:
    """For people: what the share holds."""
    if not share.is_folder:
        return "selected images"
    if not share.folder:
        return "the whole library" if share.recursive else "the top level"
    return f"folder {share.folder}" + (" and its sub-folders" if share.recursive else "")
