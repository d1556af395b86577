"""One way to talk to the API whichever transport carries it: the Flask test client or
a real HTTP connection to waitress on loopback. Tests written against ``Api`` run over
both, so the two can never drift apart."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from flask.testing import FlaskClient
from requests.structures import CaseInsensitiveDict
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

TOKEN = "test-token-7a1f0c9e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

IMAGE_FIELDS = [
    "id",
    "filename",
    "original_filename",
    "content_type",
    "size",
    "width",
    "height",
    "url",
    "thumbnail_url",
    "alt_text",
    "long_description",
    "custom_metadata",
    "folder",
    "created_at",
    "updated_at",
]


@dataclass
class Reply:
    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error_code(self) -> str:
        """The JSON error's code, asserting the whole error shape on the way."""
        assert self.headers["Content-Type"].startswith("application/json"), self.headers
        body = self.json()
        assert set(body) == {"error"}, body
        assert set(body["error"]) == {"code", "message"}, body
        assert body["error"]["message"], body
        return str(body["error"]["code"])


class Api:
    """``request(method, path, ...)`` → ``Reply``; ``auth=False`` leaves the token out."""

    base_url: str

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        json_body: Any = None,
        data: bytes | None = None,
        files: Mapping[str, tuple[str, bytes]] | None = None,
        form: Mapping[str, str] | None = None,
    ) -> Reply:
        raise NotImplementedError

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def upload(
        self,
        content: bytes,
        filename: str = "photo.jpg",
        *,
        alt_text: str | None = None,
        folder: str | None = None,
        custom_metadata: str | None = None,
        **kw: Any,
    ) -> Reply:
        form = {}
        if alt_text is not None:
            form["alt_text"] = alt_text
        if folder is not None:
            form["folder"] = folder
        if custom_metadata is not None:
            form["custom_metadata"] = custom_metadata
        return self.request(
            "POST", "/v3/images", files={"file": (filename, content)}, form=form, **kw
        )

    def upload_ok(self, content: bytes, filename: str = "photo.jpg", **kw: Any) -> dict[str, Any]:
        reply = self.upload(content, filename, **kw)
        assert reply.status == 201, reply.body
        return reply.json()


class FlaskApi(Api):
    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.base_url = "http://localhost"

    def request(
        self,
        method,
        path,
        *,
        auth=True,
        headers=None,
        query=None,
        json_body=None,
        data=None,
        files=None,
        form=None,
    ):  # type: ignore[no-untyped-def]
        all_headers = {**(AUTH if auth else {}), **(headers or {})}
        kw: dict[str, Any] = {"headers": all_headers, "query_string": query}
        if json_body is not None:
            kw["json"] = json_body
        elif files is not None or form is not None:
            fields: dict[str, Any] = dict(form or {})
            for name, (filename, content) in (files or {}).items():
                fields[name] = FileStorage(io.BytesIO(content), filename)
            # Encoded in memory: the test client's own encoder spools large bodies to a
            # temporary file that it never closes.
            boundary, body = encode_multipart(fields)
            kw["data"] = body
            kw["content_type"] = f"multipart/form-data; boundary={boundary}"
        elif data is not None:
            kw["data"] = data
        response = self.client.open(path, method=method, **kw)
        try:
            return Reply(response.status_code, CaseInsensitiveDict(response.headers), response.data)
        finally:
            response.close()  # closes the served file, as a WSGI server does


class HttpApi(Api):
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def request(
        self,
        method,
        path,
        *,
        auth=True,
        headers=None,
        query=None,
        json_body=None,
        data=None,
        files=None,
        form=None,
    ):  # type: ignore[no-untyped-def]
        all_headers = {**(AUTH if auth else {}), **(headers or {})}
        response = self.session.request(
            method,
            self.base_url + path,
            headers=all_headers,
            params=query,
            json=json_body,
            data=form if files is not None or form is not None else data,
            files=files,
            timeout=60,
        )
        return Reply(response.status_code, response.headers, response.content)
