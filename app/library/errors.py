"""The one exception family the core raises for anything a user or client can cause.

Each error carries a machine code (used by the API's JSON errors and by tests) and a
message a person can act on. The server maps codes to HTTP statuses; the GUI shows the
message as a notice.
"""

from __future__ import annotations


class LibraryError(Exception):
    """Base of every domain error. ``code`` is stable; ``message`` is for people."""

    code = "library_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(LibraryError):
    """Something the caller sent breaks a rule (bad folder, bad alt text, ...)."""

    code = "invalid_input"


class UnsupportedFormat(InvalidInput):
    code = "unsupported_format"


class MalformedImage(InvalidInput):
    code = "malformed_image"


class TooManyPixels(InvalidInput):
    code = "too_many_pixels"


class TooManyFrames(InvalidInput):
    """An animation with more frames than the library validates (see rules.MAX_FRAMES)."""

    code = "too_many_frames"


class InvalidFolder(InvalidInput):
    code = "invalid_folder"


class InvalidAltText(InvalidInput):
    code = "invalid_alt_text"


class InvalidTransform(InvalidInput):
    """A transform link (``/i/{id}.{ext}?w=&h=&crop=&fit=&q=``) asks for what the
    contract does not offer."""

    code = "invalid_transform"


class InvalidLongDescription(InvalidInput):
    code = "invalid_long_description"


class InvalidParameter(InvalidInput):
    """A listing's query parameter breaks a rule (``sort``, ``ids``, ``meta.*``,
    ``limit``, a flag that is not ``true``/``false``)."""

    code = "invalid_parameter"


class InvalidCursor(InvalidInput):
    """A listing cursor that is malformed, or was made for other filters or another
    sort than the request it came with."""

    code = "invalid_cursor"


class ConflictingPagination(InvalidInput):
    """Cursor paging (``after``/``before``) mixed with page numbers, or both cursors."""

    code = "conflicting_pagination"


class InvalidMetadata(InvalidInput):
    """``custom_metadata`` that breaks the contract's limits (keys, values, size)."""

    code = "invalid_metadata"


class MetadataNotWritable(InvalidInput):
    """The file's format cannot carry the metadata asked for (GIF and alt text), or the
    metadata does not fit (an XMP packet over a JPEG segment's 64 KiB). Nothing was
    written."""

    code = "metadata_not_writable"


class TooLarge(LibraryError):
    code = "too_large"


class NotFound(LibraryError):
    code = "not_found"


class Gone(LibraryError):
    code = "gone"


class LibraryLocked(LibraryError):
    """Another process has the library open for writing."""

    code = "library_locked"


class StorageError(LibraryError):
    """The disk refused: full, read-only, permission denied. Nothing was half-written."""

    code = "storage_error"


class Duplicate(LibraryError):
    """The same bytes are already in the library (only where the caller asked to refuse)."""

    code = "duplicate"

    def __init__(self, message: str, existing_id: str) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class Busy(LibraryError):
    """A bounded resource (decode budget, transform slots, event streams) is full right
    now; the same request will work a little later."""

    code = "busy"


class NotInTrash(LibraryError):
    """Restore or purge asked of an image that is not in the trash (a live one)."""

    code = "not_in_trash"


class NotReady(LibraryError):
    """The archive of a download job that is still being prepared, or that failed."""

    code = "not_ready"


class ClientGone(LibraryError):
    """The client that asked for this work has disconnected: the work was dropped."""

    code = "client_gone"


class Cancelled(LibraryError):
    """The person (or the caller) stopped the work; what it had made is gone again."""

    code = "cancelled"


class InvalidUrl(InvalidInput):
    """A URL to fetch that is not an http(s) URL the library can use."""

    code = "invalid_url"


class UrlNotAllowed(InvalidInput):
    """A URL whose host is (or resolves to) a non-public address (SSRF protection)."""

    code = "url_not_allowed"


class UpstreamError(LibraryError):
    """The server a URL points at failed: refused, an error status, too many redirects."""

    code = "upstream_error"


class UpstreamTimeout(LibraryError):
    """The server a URL points at was too slow to connect or to send the whole file."""

    code = "upstream_timeout"


class KeyExists(LibraryError):
    """An API key with that name exists already (names are what keys are revoked by)."""

    code = "key_exists"


class OutsideKeyFolders(LibraryError):
    """The API key is limited to folders and the request would place an image outside
    them (an upload, a move)."""

    code = "outside_key_folders"
