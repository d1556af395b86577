"""The ``/v3/images`` blueprint. Views only translate: HTTP in, one ``Library`` call,
JSON out. Validation and every rule live in the core; its errors are mapped to statuses
by the app's error handler (``errors.py``)."""

from __future__ import annotations

import re
from typing import Any, Final

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from imageshelf.app.library import ALL_FOLDERS, Incoming, InvalidInput, Library, Sort, rules
from imageshelf.app.library.intake import Prepared

from . import idempotency
from .errors import error_response
from .json_body import json_object, only_fields
from .serialize import image_response

bp = Blueprint("images", __name__, url_prefix="/v3/images")

PATCH_FIELDS: Final = frozenset({"alt_text", "folder", "long_description"})
# Says what saving text did to the image file (see write_back.py): written, off (the
# library setting is off), not_writable (GIF; a packet too large), failed.
FILE_METADATA_HEADER: Final = "Imageshelf-File-Metadata"
MAX_PATCH_BYTES: Final = 64 * 1024
_WHOLE_NUMBER: Final = re.compile(r"[0-9]{1,9}")


def library() -> Library:
    lib: Library = current_app.extensions["imageshelf"]
    return lib


def public_base() -> str:
    """``--public-url`` when given, else the scheme and host the request came in on."""
    configured: str | None = current_app.config.get("IMAGESHELF_PUBLIC_URL")
    if configured:
        return configured
    host = request.host  # werkzeug leaves it empty when the Host header is not valid
    if not host:
        # Still an absolute URL: the address the server listens on.
        name = request.environ.get("SERVER_NAME") or "localhost"
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"
        host = f"{name}:{request.environ.get('SERVER_PORT') or 80}"
    return f"{request.scheme}://{host}"


def _image_json(record: Any, status: int = 200) -> Response:
    response = jsonify(image_response(record, public_base()))
    response.status_code = status
    return response


def _whole_number(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw):
        raise InvalidInput(f"{name} must be a whole number, not {raw!r}.")
    return int(raw)


def _flag(name: str) -> bool:
    """``true`` or ``false`` (the contract's Part 2); anything else is refused."""
    raw = request.args.get(name, "false")
    if raw not in ("true", "false"):
        raise InvalidInput(f"{name} must be true or false; got {raw!r}.")
    return raw == "true"


@bp.get("", strict_slashes=False)
def list_images() -> Response:
    """``?folder=`` (present and empty: the root only), ``search``, ``undescribed``,
    ``sort``, ``page``, ``page_size``."""
    page = _whole_number("page", 1)
    page_size = _whole_number("page_size", rules.DEFAULT_PAGE_SIZE)
    rules.check_page(page, page_size)
    folder: object = request.args.get("folder", ALL_FOLDERS)
    result = library().list_images(
        folder=folder,
        search=request.args.get("search") or None,
        undescribed=_flag("undescribed"),
        sort=request.args.get("sort", Sort.NEWEST.value),
        page=page,
        page_size=page_size,
    )
    base = public_base()
    return jsonify(
        {
            "result": [image_response(r, base) for r in result.items],
            "total": result.total,
            "page": result.page,
            "page_size": result.page_size,
        }
    )


@bp.post("", strict_slashes=False)
def upload_image() -> Response:
    """``multipart/form-data`` with ``file`` (required), ``alt_text``, ``long_description``
    and ``folder``.
    The file part was streamed into the library's ``tmp/`` while it was parsed (see
    ``uploads.py``); the core takes it over from there."""
    uploads = request.files.getlist("file")
    if len(uploads) > 1:
        # Which one was meant is a guess: keep none (every sink is removed at close).
        return error_response(
            400, "multiple_files", "Send one image per request: the form has two 'file' parts."
        )
    upload = uploads[0] if uploads else None
    if upload is None:
        return error_response(
            400,
            "missing_file",
            "Send the image as multipart/form-data in a file field named 'file' "
            "(curl: -F file=@photo.jpg).",
        )
    lib = library()
    key = idempotency.requested_key(request.form.get(idempotency.FIELD))
    folder = rules.normalize_folder(request.form.get("folder"))
    alt_text = rules.normalize_alt_text(request.form.get("alt_text"))
    long_description = rules.normalize_long_description(request.form.get("long_description"))
    # The content a retry must match: the parsed fields (the file's name too) and the
    # file's hash, never the raw multipart bytes (boundaries differ between retries).
    fields = {
        "file_name": upload.filename,
        "folder": request.form.get("folder"),
        "alt_text": request.form.get("alt_text"),
        "long_description": request.form.get("long_description"),
    }
    if isinstance(upload.stream, Incoming):
        tmp, size, sha256 = upload.stream.finish()

        def prepare() -> Prepared:
            return lib.prepare_file(tmp, size, sha256, upload.filename)

        def drop() -> None:
            tmp.unlink(missing_ok=True)

    else:  # an app built with another request class: the core streams it itself
        prepared_first = lib.prepare(upload.stream, upload.filename)
        sha256 = prepared_first.sha256

        def prepare() -> Prepared:
            return prepared_first

        def drop() -> None:
            lib.discard(prepared_first)

    def store() -> Response:
        record = lib.commit(
            prepare(), alt_text=alt_text, folder=folder, long_description=long_description
        )
        response = _image_json(record, 201)
        response.headers["Location"] = f"/v3/images/{record.id}"
        return response

    return idempotency.run_once(
        key, "POST /v3/images", {**fields, "file_sha256": sha256}, store, cleanup=drop
    )


@bp.get("/folders")
def list_folders() -> Response:
    return jsonify({"folders": library().folders()})


@bp.get("/<image_id>")
def get_image(image_id: str) -> Response:
    return _image_json(library().get(image_id))


def _patch_body() -> dict[str, Any]:
    body = json_object('{"alt_text": "A red kite"}', limit=MAX_PATCH_BYTES)
    only_fields(body, PATCH_FIELDS)
    for key, value in body.items():
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{key} must be a string or null.")
    return body


@bp.patch("/<image_id>")
def update_image(image_id: str) -> Response:
    """Keys left out are left as they are; ``null`` clears alt text / moves to the root."""
    changes = _patch_body()
    record, outcome = library().update_with_outcome(image_id, **changes)
    response = _image_json(record)
    if outcome is not None:
        response.headers[FILE_METADATA_HEADER] = outcome.status
    return response


@bp.delete("/<image_id>")
def delete_image(image_id: str) -> Response:
    library().delete(image_id)
    return Response(status=204)
