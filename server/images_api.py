"""The ``/v3/images`` blueprint. Views only translate: HTTP in, one ``Library`` call,
JSON out. Validation and every rule live in the core; its errors are mapped to statuses
by the app's error handler (``errors.py``)."""

from __future__ import annotations

import re
from typing import Any, Final

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from imageshelf.app.library import Incoming, InvalidInput, Library, rules
from imageshelf.app.library import custom_metadata as metadata_rules
from imageshelf.app.library.intake import Prepared

from . import idempotency, include, listing_args
from .auth import current_limit, require_folder
from .errors import error_response
from .json_body import json_object, only_fields
from .serialize import image_response

bp = Blueprint("images", __name__, url_prefix="/v3/images")

PATCH_FIELDS: Final = frozenset({"alt_text", "folder", "long_description", "custom_metadata"})
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


@bp.get("", strict_slashes=False)
def list_images() -> Response:
    """Filters ``folder`` (present and empty: the root only), ``recursive``, ``search``,
    ``undescribed``, ``ids``, ``meta.KEY``; ``sort``; then ``page``/``page_size``, or
    ``limit`` with ``after``/``before`` (cursors). See ``listing_args.py``. ``include``
    (``exif``, ``exif,location``) adds parts to each image (``include.py``)."""
    args = listing_args.read(request.args)
    parts = include.read(request.args)
    lib = library()
    base = public_base()
    if args.cursor_mode:
        found = lib.list_by_cursor(
            **args.filters,
            limit=args.limit,
            after=args.after,
            before=args.before,
            within=current_limit(),
        )
        return jsonify(
            {
                "result": [image_response(r, base, parts) for r in found.items],
                "total": found.total,
                "page_info": {
                    "has_next_page": found.has_next_page,
                    "has_previous_page": found.has_previous_page,
                    "start_cursor": found.start_cursor,
                    "end_cursor": found.end_cursor,
                },
            }
        )
    result = lib.list_images(
        **args.filters, page=args.page, page_size=args.page_size, within=current_limit()
    )
    return jsonify(
        {
            "result": [image_response(r, base, parts) for r in result.items],
            "total": result.total,
            "page": result.page,
            "page_size": result.page_size,
        }
    )


@bp.post("", strict_slashes=False)
def upload_image() -> Response:
    """``multipart/form-data`` with ``file`` (required), ``alt_text``, ``long_description``,
    ``folder`` and ``custom_metadata`` (a JSON object).
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
    require_folder(folder)
    alt_text = rules.normalize_alt_text(request.form.get("alt_text"))
    long_description = rules.normalize_long_description(request.form.get("long_description"))
    custom_metadata = metadata_rules.parse_field(request.form.get("custom_metadata"))
    # The content a retry must match: the parsed fields (the file's name too) and the
    # file's hash, never the raw multipart bytes (boundaries differ between retries).
    fields = {
        "file_name": upload.filename,
        "folder": request.form.get("folder"),
        "alt_text": request.form.get("alt_text"),
        "long_description": request.form.get("long_description"),
        "custom_metadata": request.form.get("custom_metadata"),
    }
    if isinstance(upload.stream, Incoming):
        # Not fsynced yet: the core fsyncs it while it decodes (both release the GIL), and
        # a replayed or refused request never spends the fsync at all.
        tmp, size, sha256 = upload.stream.finish(durable=False)

        def prepare() -> Prepared:
            return lib.prepare_file(tmp, size, sha256, upload.filename, synced=False)

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
            prepare(),
            alt_text=alt_text,
            folder=folder,
            long_description=long_description,
            custom_metadata=custom_metadata,
        )
        response = _image_json(record, 201)
        response.headers["Location"] = f"/v3/images/{record.id}"
        return response

    return idempotency.run_once(
        key, "POST /v3/images", {**fields, "file_sha256": sha256}, store, cleanup=drop
    )


@bp.get("/folders")
def list_folders() -> Response:
    return jsonify({"folders": library().folders(within=current_limit())})


@bp.get("/<image_id>")
def get_image(image_id: str) -> Response:
    """``include=exif`` or ``include=exif,location`` adds the file's EXIF facts."""
    parts = include.read(request.args)
    return jsonify(image_response(library().get(image_id), public_base(), parts))


def _patch_body() -> dict[str, Any]:
    body = json_object('{"alt_text": "A red kite"}', limit=MAX_PATCH_BYTES)
    only_fields(body, PATCH_FIELDS)
    for key, value in body.items():
        if key == "custom_metadata":
            continue  # an object, merged and checked by the core (custom_metadata.merge)
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{key} must be a string or null.")
    return body


@bp.patch("/<image_id>")
def update_image(image_id: str) -> Response:
    """Keys left out are left as they are; ``null`` clears alt text / moves to the root."""
    changes = _patch_body()
    if "folder" in changes:
        require_folder(rules.normalize_folder(changes["folder"]))
    record, outcome = library().update_with_outcome(image_id, **changes)
    response = _image_json(record)
    if outcome is not None:
        response.headers[FILE_METADATA_HEADER] = outcome.status
    return response


@bp.delete("/<image_id>")
def delete_image(image_id: str) -> Response:
    library().delete(image_id)
    return Response(status=204)
