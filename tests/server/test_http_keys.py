"""The contract's "API keys and scopes", through the Flask test client and a real waitress
server: the scope matrix read from the OpenAPI document, /v3/keys and /v3/keys/me,
expiry, revocation at the next request, and secrets kept only as hashes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from imageshelf.app.library import Library
from imageshelf.server import create_app
from imageshelf.server.app import openapi_document
from imageshelf.server.auth import ADMIN_ONLY, ScopeTable, openapi_path
from tests.conftest import image_bytes
from tests.server.backend_helpers import another_engine, database_files, database_text, quiet
from tests.server.http_helpers import TOKEN, Api, FlaskApi, Reply

# The contract on both libraries: a folder, and a team library (tests/server/conftest.py).
BOTH_BACKENDS = True

DOC: dict[str, Any] = json.loads(openapi_document())
KINDS = ("read", "upload", "edit", "admin")
# The contract's table, written out: the document must say the same.
CONTRACT_SCOPES = {
    ("GET", "/v3/images"): "read",
    ("POST", "/v3/images"): "upload",
    ("GET", "/v3/images/folders"): "read",
    ("GET", "/v3/images/{image_id}"): "read",
    ("PATCH", "/v3/images/{image_id}"): "edit",
    ("DELETE", "/v3/images/{image_id}"): "edit",
    ("POST", "/v3/images/bulk_delete"): "edit",
    ("POST", "/v3/images/upload_via_url"): "upload",
    ("GET", "/v3/trash"): "read",
    ("POST", "/v3/trash/{image_id}/restore"): "edit",
    ("DELETE", "/v3/trash/{image_id}"): "admin",
    ("POST", "/v3/trash/empty"): "admin",
    ("GET", "/v3/events"): "read",
    ("GET", "/v3/keys"): "admin",
    ("POST", "/v3/keys"): "admin",
    ("DELETE", "/v3/keys/{name}"): "admin",
    ("GET", "/v3/keys/me"): None,  # any key
    ("POST", "/v3/images/downloads"): "edit",
    ("GET", "/v3/images/downloads/{job_id}"): "read",
    ("GET", "/v3/images/downloads/{job_id}/archive"): "read",
    ("POST", "/v3/shares"): "edit",
    ("DELETE", "/v3/shares/{share_id}"): "edit",
}
HOLDS = {
    "read": {"read"},
    "upload": {"upload"},
    "edit": {"read", "upload", "edit"},
    "admin": {"read", "upload", "edit", "admin"},
}


def v3_operations() -> list[tuple[str, str, list[dict[str, list[str]]]]]:
    found = []
    for path, item in DOC["paths"].items():
        if not path.startswith("/v3/"):
            continue
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((method.upper(), path, operation.get("security")))
    return found


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def call(api: Api, secret: str, method: str, path: str, **kw: Any) -> Reply:
    return api.request(method, path, auth=False, headers=bearer(secret), **kw)


def assert_insufficient(reply: Reply) -> None:
    assert reply.status == 403, reply.body
    assert reply.error_code == "insufficient_scope"
    assert reply.headers["WWW-Authenticate"].startswith('Bearer error="insufficient_scope"')


# --- the document ----------------------------------------------------------------------------


def test_every_v3_route_has_a_documented_scope(flask_app: Flask) -> None:
    """Every /v3 rule and method Flask serves names its scope in the document, so none
    falls back to admin by accident (and none is open)."""
    missing = []
    for rule in flask_app.url_map.iter_rules():
        if not rule.rule.startswith("/v3"):
            continue
        for method in rule.methods or ():
            if method in ("HEAD", "OPTIONS"):
                continue
            operation = DOC["paths"].get(openapi_path(rule.rule), {}).get(method.lower())
            if operation is None or "security" not in operation:
                missing.append((method, rule.rule))
    assert not missing, f"document these operations' security: {missing}"
    table = flask_app.extensions["imageshelf_scopes"]
    assert table.undocumented == []


def test_document_scopes_are_the_contracts() -> None:
    said = {}
    for method, path, security in v3_operations():
        if path == "/v3/openapi.json":
            assert security == []  # public: it describes the API, holds no data
            continue
        assert security is not None and len(security) == 1, (method, path)
        scopes = security[0]["bearer"]
        said[(method, path)] = scopes[0] if scopes else None
    for op, scope in CONTRACT_SCOPES.items():
        assert said.get(op, "missing") == scope, op
    assert DOC["security"] == [{"bearer": ["admin"]}]  # what an operation naming none needs


def test_an_undocumented_route_needs_admin(library: Library) -> None:
    app = create_app(library, token=TOKEN)
    app.add_url_rule("/v3/not-in-the-document", "undocumented", lambda: {"ok": True})
    assert ScopeTable(app, DOC).requirements("/v3/not-in-the-document", "GET") == ADMIN_ONLY
    api = FlaskApi(app.test_client())
    _key, edit = library.keys.create("editor", "edit")
    assert_insufficient(call(api, edit, "GET", "/v3/not-in-the-document"))
    assert api.get("/v3/not-in-the-document").status == 200  # the admin token


# --- the scope matrix --------------------------------------------------------------------------


def _filled(path: str, image_id: str) -> str:
    for name, value in (
        ("{image_id}", image_id),
        ("{name}", "nobody"),
        ("{job_id}", "dl_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"),
        ("{share_id}", "shr_01JD8Z3M4K7Q2V9W5X6Y7Z8A9B"),
    ):
        path = path.replace(name, value)
    assert "{" not in path, path  # a new parameter: give it a value here
    return path


def test_scope_matrix_from_the_document(api: Api, library: Library) -> None:
    """Each key kind against each /v3 operation the document lists: a key holding the
    scope gets past the check (whatever the operation then answers), one without it is
    403 insufficient_scope."""
    secrets = {kind: library.keys.create(f"k-{kind}", kind)[1] for kind in KINDS}
    image_id = api.upload_ok(image_bytes("PNG"), "a.png")["id"]
    checked = 0
    for kind in KINDS:  # admin last: its deletes and emptying change nothing for the rest
        for method, path, security in v3_operations():
            if security == []:
                continue
            needed = [set(req["bearer"]) for req in security]
            allowed = any(need <= HOLDS[kind] for need in needed)
            kw: dict[str, Any] = {}
            if method == "POST" and path == "/v3/images":
                kw["files"] = {"file": ("m.png", image_bytes("PNG", color=(1, 2, 3)))}
            elif method in ("POST", "PATCH"):
                kw["json_body"] = {}
            reply = call(api, secrets[kind], method, _filled(path, image_id), **kw)
            if allowed:
                assert reply.status not in (401, 403), (kind, method, path, reply.body)
            else:
                assert_insufficient(reply)
            checked += 1
    assert checked >= 4 * len(CONTRACT_SCOPES)


def test_head_follows_get_and_no_key_is_401(api: Api, library: Library) -> None:
    _key, upload = library.keys.create("up", "upload")
    assert call(api, upload, "HEAD", "/v3/images").status == 403
    for reply in (
        api.get("/v3/images", auth=False),
        call(api, "isk_nonsense", "GET", "/v3/images"),
    ):
        assert reply.status == 401
        assert reply.headers["WWW-Authenticate"] == "Bearer"
    assert api.get("/v3/openapi.json", auth=False).status == 200


# --- /v3/keys ---------------------------------------------------------------------------------


def test_keys_me_for_every_kind(api: Api, library: Library) -> None:
    for kind in KINDS:
        folders = ["birds"] if kind != "admin" else None
        _key, secret = library.keys.create(f"me-{kind}", kind, folders, 3)
        reply = call(api, secret, "GET", "/v3/keys/me")
        assert reply.status == 200, reply.body
        body = reply.json()
        assert set(body) == {"name", "scope", "folders", "expires_at"}
        assert (body["name"], body["scope"], body["folders"]) == (f"me-{kind}", kind, folders)
        assert body["expires_at"].endswith("Z")
    mine = api.get("/v3/keys/me").json()
    assert mine == {"name": "library-token", "scope": "admin", "folders": None, "expires_at": None}


def test_admin_creates_lists_and_revokes_keys(api: Api, library: Library) -> None:
    made = api.request(
        "POST",
        "/v3/keys",
        json_body={"name": "uploader", "scope": "upload", "folders": ["inbox"], "expires_days": 7},
    )
    assert made.status == 201, made.body
    body = made.json()
    secret = body.pop("secret")
    assert secret.startswith("isk_") and len(secret) >= 40
    assert made.headers["Cache-Control"] == "no-store"
    assert body["name"] == "uploader" and body["folders"] == ["inbox"]
    assert body["last_used_at"] is None

    quiet(library)  # no background write that would make the first use's note skip
    up = call(
        api,
        secret,
        "POST",
        "/v3/images",
        files={"file": ("x.png", image_bytes("PNG"))},
        form={"folder": "inbox"},
    )
    assert up.status == 201, up.body

    listed = api.get("/v3/keys").json()
    assert listed["total"] == 1
    (row,) = listed["result"]
    assert row["name"] == "uploader" and "secret" not in row
    assert row["last_used_at"] is not None  # noted on its first use

    again = api.request("POST", "/v3/keys", json_body={"name": "uploader", "scope": "read"})
    assert (again.status, again.error_code) == (409, "key_exists")
    for bad in (
        {"name": "x", "scope": "owner"},
        {"name": "has space", "scope": "read"},
        {"name": "a", "scope": "admin", "folders": ["inbox"]},
        {"name": "a", "scope": "read", "folders": [""]},
        {"name": "a", "scope": "read", "expires_days": 0},
        {"name": "a", "scope": "read", "colour": "red"},
    ):
        reply = api.request("POST", "/v3/keys", json_body=bad)
        assert reply.status == 400, (bad, reply.body)

    assert api.request("DELETE", "/v3/keys/uploader").status == 204
    # Revoked: the very next request with it is refused.
    assert call(api, secret, "GET", "/v3/keys/me").status == 401
    assert api.request("DELETE", "/v3/keys/uploader").status == 404


def test_revoked_from_another_handle_takes_effect_at_the_next_request(
    api: Api, library: Library
) -> None:
    """The server reads the key per request: a revoke made by another connection (what
    ``imageshelf keys revoke`` does while the server runs) is seen at once."""
    from imageshelf.app.library.keys import KeyStore

    _key, secret = library.keys.create("script", "read")
    assert call(api, secret, "GET", "/v3/images").status == 200
    engine = another_engine(library)
    try:
        import threading

        KeyStore(engine, threading.Lock()).revoke("script")
    finally:
        engine.dispose()
    reply = call(api, secret, "GET", "/v3/images")
    assert (reply.status, reply.error_code) == (401, "invalid_token")


def test_expired_key_is_401(api: Api, library: Library) -> None:
    _key, secret = library.keys.create("shortlived", "read", None, 1)
    assert call(api, secret, "GET", "/v3/keys/me").status == 200
    with library.core.write() as conn:  # a day later
        conn.execute(text("UPDATE api_keys SET expires_at = expires_at - 86400000001"))
    reply = call(api, secret, "GET", "/v3/keys/me")
    assert (reply.status, reply.error_code) == (401, "expired_token")


def test_secret_is_stored_hashed_only(library: Library, backend: str) -> None:
    _key, secret = library.keys.create("hashed", "edit")
    with library.core.read() as conn:
        stored = conn.execute(text("SELECT secret_hash FROM api_keys")).scalar_one()
    assert stored == hashlib.sha256(secret.encode()).hexdigest()
    rows = database_text(library)
    assert stored in rows  # the dump does see the keys table
    assert secret.removeprefix("isk_") not in rows
    # A folder library's database files, WAL included, byte by byte.
    files = database_files(library)
    assert bool(files) == (backend == "folder")
    for path in files:
        assert secret.encode() not in path.read_bytes(), path
        assert secret.removeprefix("isk_").encode() not in path.read_bytes(), path


def test_last_used_is_not_written_per_request(api: Api, library: Library) -> None:
    _key, secret = library.keys.create("busy", "read")
    quiet(library)  # no background write that would make the first use's note skip
    assert call(api, secret, "GET", "/v3/images").status == 200
    first = library.keys.get("busy").last_used_at_us
    assert first is not None
    for _ in range(5):
        assert call(api, secret, "GET", "/v3/images").status == 200
    assert library.keys.get("busy").last_used_at_us == first  # within the minute: once


@pytest.mark.parametrize("scope", ["read", "edit"])
def test_keys_cannot_manage_keys(api: Api, library: Library, scope: str) -> None:
    _key, secret = library.keys.create("limited", scope)
    assert_insufficient(call(api, secret, "GET", "/v3/keys"))
    assert_insufficient(
        call(api, secret, "POST", "/v3/keys", json_body={"name": "x", "scope": "admin"})
    )
    assert_insufficient(call(api, secret, "DELETE", "/v3/keys/limited"))
