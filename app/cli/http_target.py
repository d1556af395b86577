"""The running window's or server's API as a ``Target`` (standard library only: the
command line needs no HTTP client package)."""

from __future__ import annotations

import contextlib
import json
import mimetypes
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .common import ERROR, NOT_FOUND, UNREACHABLE, CommandError

PAGE_SIZE = 100
TIMEOUT = 120  # seconds: an upload of 10 MiB to a busy server still fits


def find_server(meta_dir: Path) -> str | None:
    from imageshelf.server import address

    found = address.read(meta_dir)
    return None if found is None else str(found["url"])


class HttpTarget:
    def __init__(self, base_url: str, token: str) -> None:
        self.base = base_url.rstrip("/")
        self.token = token
        self.where = f"the running Imageshelf at {self.base}"

    # --- requests ------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        auth: bool = True,
    ) -> Any:
        request = urllib.request.Request(self.base + path, data=body, method=method)
        if auth:
            request.add_header("Authorization", f"Bearer {self.token}")
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            return urllib.request.urlopen(request, timeout=TIMEOUT)
        except urllib.error.HTTPError as exc:
            raise self._error(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CommandError(
                f"Cannot reach {self.where} ({reason}); the process holding the library "
                "may be stopping. Try again, or close it to work on the library directly.",
                UNREACHABLE,
            ) from None

    def _error(self, exc: urllib.error.HTTPError) -> CommandError:
        try:
            error = json.loads(exc.read())["error"]
            message = str(error["message"])
        except (ValueError, KeyError, TypeError):
            message = f"{exc.code} {exc.reason}"
        if exc.code == 401:
            message += (
                " The running Imageshelf uses another API token: set $IMAGESHELF_API_TOKEN to it."
            )
        return CommandError(message, NOT_FOUND if exc.code in (404, 410) else ERROR)

    def _json(self, method: str, path: str, payload: Any = None) -> Any:
        body = None if payload is None else json.dumps(payload).encode()
        with self._request(
            method, path, body=body, content_type="application/json" if body else None
        ) as reply:
            raw = reply.read()
        return json.loads(raw) if raw else None

    @staticmethod
    def _id(image_id: str) -> str:
        return urllib.parse.quote(image_id, safe="")

    # --- the Target operations -----------------------------------------------------------

    def images(
        self, *, folder: str | None = None, search: str | None = None, undescribed: bool = False
    ) -> Iterator[dict[str, Any]]:
        query: dict[str, str] = {"page_size": str(PAGE_SIZE)}
        if folder is not None:
            query["folder"] = folder
        if search:
            query["search"] = search
        if undescribed:
            query["undescribed"] = "true"
        page = 1
        while True:
            query["page"] = str(page)
            reply = self._json("GET", "/v3/images?" + urllib.parse.urlencode(query))
            yield from reply["result"]
            if page * PAGE_SIZE >= reply["total"] or not reply["result"]:
                return
            page += 1

    def add(self, path: Path, *, folder: str | None, alt_text: str | None) -> dict[str, Any]:
        """One multipart upload (the file is at most 10 MiB: the caller checked)."""
        boundary = "imageshelf-" + secrets.token_hex(12)
        parts: list[bytes] = []
        for name, value in (("alt_text", alt_text), ("folder", folder)):
            if value is not None:
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    f"{value}\r\n".encode()
                )
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        quoted = path.name.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{quoted}"\r\nContent-Type: {kind}\r\n\r\n'.encode()
        )
        body = b"".join(parts) + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        with self._request(
            "POST",
            "/v3/images",
            body=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        ) as reply:
            return json.loads(reply.read())  # type: ignore[no-any-return]

    def update(self, image_id: str, **changes: str | None) -> dict[str, Any]:
        return self._json("PATCH", f"/v3/images/{self._id(image_id)}", changes)  # type: ignore[no-any-return]

    def delete(self, image_id: str) -> None:
        self._json("DELETE", f"/v3/images/{self._id(image_id)}")

    @contextlib.contextmanager
    def original(self, image_id: str) -> Iterator[BinaryIO]:
        with self._request("GET", f"/i/{self._id(image_id)}", auth=False) as reply:
            yield reply

    def close(self) -> None:
        pass
