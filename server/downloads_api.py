"""The contract's "Bulk downloads": ``POST /v3/images/downloads`` (a job, ``202``),
``GET .../downloads/{id}`` (the job) and ``GET|HEAD .../downloads/{id}/archive`` (the zip).

The jobs, their archives and every rule are the core's (``app/library/downloads*.py``).
Here: the archive goes out as a seekable stream handed to ``wsgi.file_wrapper``, so
waitress sends it from its I/O thread at the pace the client reads — no worker thread is
held for a download however slow the client, and one that stops reading is closed after
``ConnectionLimits.output_stall_seconds`` (``server/connections.py``). ``Range`` (one
range; several are answered whole), ``If-Range`` (the ETag) and ``If-None-Match`` are
decided here; the exact ``Content-Length`` is the core's layout size. A file that
changed while it streams makes the stream raise ``ArchiveChanged`` (an ``OSError``):
waitress closes the connection and the client sees fewer bytes than promised."""

from __future__ import annotations

from typing import IO, Any, Final, cast
from urllib.parse import quote

from flask import Blueprint, jsonify, request
from werkzeug.http import parse_etags, parse_range_header, quote_etag
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from imageshelf.app.library import rfc3339
from imageshelf.app.library.downloads import Archive, DownloadJob, JobStatus

from . import idempotency
from .auth import current_limit
from .errors import error_response
from .images_api import library, public_base
from .json_body import json_object, only_fields

bp = Blueprint("downloads", __name__, url_prefix="/v3/images/downloads")

FIELDS: Final = frozenset({"image_ids", "folder", "recursive", idempotency.FIELD})
# 10,000 ids of 30 characters with their quotes and commas, and room to spare.
MAX_BODY_BYTES: Final = 512 * 1024
# What a client polling a job that is not ready yet is told to wait (seconds).
POLL_AFTER: Final = "1"
STREAM_BLOCK: Final = 256 * 1024


def job_response(job: DownloadJob) -> dict[str, Any]:
    base = public_base()
    ready = job.status is JobStatus.READY
    body: dict[str, Any] = {
        "id": job.id,
        "status": str(job.status),
        "count": job.count,
        "size": job.size if ready else None,
        "download_url": f"{base}{bp.url_prefix}/{job.id}/archive" if ready else None,
        "missing": job.missing,
        "created_at": rfc3339(job.created_at_us),
        "expires_at": rfc3339(job.expires_at_us),
    }
    if job.status is JobStatus.FAILED:
        body["error"] = job.error
    return body


def _answer(job: DownloadJob, status: int) -> Response:
    response = jsonify(job_response(job))
    response.status_code = status
    response.headers["Location"] = f"{bp.url_prefix}/{job.id}"
    response.headers["Cache-Control"] = "no-store"
    if job.status in (JobStatus.PENDING, JobStatus.PROCESSING):
        response.headers["Retry-After"] = POLL_AFTER
    return response


@bp.post("")
def create() -> Response:
    body = json_object('{"image_ids": ["img_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"]}', MAX_BODY_BYTES)
    only_fields(body, FIELDS)
    key = idempotency.requested_key(body.pop(idempotency.FIELD, None))

    def run() -> Response:
        return _answer(library().downloads.create(**body, within=current_limit()), 202)

    return idempotency.run_once(key, "POST /v3/images/downloads", body, run)


@bp.get("/<job_id>")
def show(job_id: str) -> Response:
    return _answer(library().downloads.get(job_id), 200)


@bp.route("/<job_id>/archive", methods=["GET", "HEAD"])
def archive(job_id: str) -> Response:
    found = library().downloads.archive(job_id)
    etag = quote_etag(found.job.id)
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-cache",
        "Content-Disposition": _attachment(f"imageshelf-{found.job.id}.zip"),
    }
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and parse_etags(if_none_match).contains_weak(found.job.id):
        return Response(status=304, headers=headers)
    try:
        span = _requested_span(found, etag)
    except _Unsatisfiable:
        response = error_response(
            416,
            "range_not_satisfiable",
            f"The archive is {found.size:,} bytes; ask for a range inside it.",
        )
        response.headers["Content-Range"] = f"bytes */{found.size}"
        return response
    start, end = span if span is not None else (0, found.size)
    status = 206 if span is not None else 200
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{found.size}"
    if request.method == "HEAD":
        response = Response(status=status, headers=headers, content_type="application/zip")
        response.content_length = end - start
        return response
    stream = found.stream(start, end)
    response = Response(
        wrap_file(request.environ, cast(IO[bytes], stream), STREAM_BLOCK),
        status=status,
        headers=headers,
        content_type="application/zip",
        direct_passthrough=True,
    )
    response.content_length = end - start
    return response


class _Unsatisfiable(Exception):
    pass


def _requested_span(found: Archive, etag: str) -> tuple[int, int] | None:
    """The one range to send, ``None`` for the whole archive; ``_Unsatisfiable``.
    ``If-Range`` must name this archive's ETag (a date never matches: no Last-Modified
    is sent), else the whole archive is sent (RFC 9110 §13.1.5)."""
    header = request.headers.get("Range")
    if header is None:
        return None
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != etag:
        return None
    ranges = parse_range_header(header)
    if ranges is None or ranges.units != "bytes" or len(ranges.ranges) != 1:
        return None  # malformed, another unit or several ranges: the whole archive
    span = ranges.range_for_length(found.size)
    if span is None:
        raise _Unsatisfiable
    return span


def _attachment(filename: str) -> str:
    """RFC 6266: an ASCII ``filename`` for old clients, ``filename*`` in UTF-8 for all."""
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
