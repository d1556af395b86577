"""Who may call what under ``/v3``: ``Authorization: Bearer <secret>`` names a key, and
the OpenAPI document names the scope each operation needs — in one place, its OpenAPI 3.1
``security`` (``[{"bearer": ["read"]}]``; ``[{"bearer": []}]``: any key; ``[]``: no key).

``ScopeTable`` reads the document once, when the app is made, into a table from each of
Flask's ``/v3`` rules and methods to those requirements. A rule the document does not
describe needs ``admin`` (fails closed), as does an operation that names no ``security``
(the document's top-level default is ``admin`` too).

The keys are the core's (``app/library/keys.py``); the library's own token (or
``$IMAGESHELF_API_TOKEN``) is an admin key. Answers: no or unknown key ``401``; an
expired one ``401 expired_token``; a key without the scope ``403 insufficient_scope``
with ``WWW-Authenticate: Bearer error="insufficient_scope"``; an image outside a
folder-limited key's folders ``404`` on every route that names one (``<image_id>``)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from flask import Flask, g, request
from werkzeug.wrappers import Response

from imageshelf.app.library import NotFound, OutsideKeyFolders, api_token
from imageshelf.app.library.folder_limit import FolderLimit
from imageshelf.app.library.keys import ApiKey

from .errors import error_response

if TYPE_CHECKING:
    from imageshelf.app.library import Library

TOKEN_ENV: Final = api_token.TOKEN_ENV
# What the library's own token (or $IMAGESHELF_API_TOKEN) answers to ``/v3/keys/me``.
ADMIN_TOKEN_NAME: Final = "library-token"
Requirements = list[dict[str, list[str]]]
ADMIN_ONLY: Final[Requirements] = [{"bearer": ["admin"]}]
ANY_KEY: Final[Requirements] = [{"bearer": []}]
_KEY_G: Final = "imageshelf_key"
_PRINCIPAL_G: Final = "imageshelf_principal"
_METHODS: Final = ("get", "put", "post", "delete", "patch")


def configured_token(library: Library, known: str | None = None) -> tuple[str, bool]:
    """The token ``/v3`` asks for, the one rule for ``imageshelf serve`` and the window's
    server alike (the contract: the environment sets the token): ``$IMAGESHELF_API_TOKEN``
    when set and not blank, else the one kept in the library (``known``: that token as
    the caller already read it, on a worker, so the library is not read again). Second:
    from the environment."""
    token = api_token.from_environment()
    if token:
        return token, True
    return (library.api_token() if known is None else known), False


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


def principal_for(secret: str) -> str:
    """What idempotency keys are kept per: a hash of the bearer secret, never the secret."""
    return hashlib.sha256(
        b"imageshelf-api-key\0" + secret.encode("utf-8", "surrogateescape")
    ).hexdigest()


def openapi_path(rule: str) -> str:
    """Flask's ``/v3/images/<image_id>`` (or ``<string:image_id>``) as OpenAPI's
    ``/v3/images/{image_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


class ScopeTable:
    """``(Flask rule, METHOD)`` → the security requirements the document gives it."""

    def __init__(self, app: Flask, document: Mapping[str, Any]) -> None:
        paths: Mapping[str, Any] = document.get("paths", {})
        default: Requirements = document.get("security", ADMIN_ONLY)
        self.table: dict[tuple[str, str], Requirements] = {}
        self.undocumented: list[tuple[str, str]] = []
        for rule in app.url_map.iter_rules():
            if not _under_v3(rule.rule):
                continue
            path_item = paths.get(openapi_path(rule.rule), {})
            for method in sorted(rule.methods or ()):
                if method.lower() not in _METHODS:
                    continue  # HEAD is GET's, OPTIONS is any key's (see ``requirements``)
                operation = path_item.get(method.lower())
                if operation is None:
                    self.undocumented.append((rule.rule, method))
                    requirements = ADMIN_ONLY
                else:
                    requirements = operation.get("security", default)
                self.table[(rule.rule, method)] = requirements

    def requirements(self, rule: str | None, method: str) -> Requirements:
        if rule is None or method == "OPTIONS":
            return ANY_KEY  # no such route (404/405 follow) or Flask's own OPTIONS
        return self.table.get((rule, "GET" if method == "HEAD" else method), ADMIN_ONLY)


def _under_v3(path: str) -> bool:
    return path == "/v3" or path.startswith("/v3/")


def satisfies(grants: frozenset[str], requirements: Requirements) -> bool:
    """OpenAPI's reading: any one requirement object whose every scheme's scopes are held."""
    return any(all(set(scopes) <= grants for scopes in req.values()) for req in requirements)


def admin_key() -> ApiKey:
    return ApiKey(ADMIN_TOKEN_NAME, "admin", None, 0, None, None)


@dataclass
class Gate:
    """The ``before_request`` check of one app."""

    library: Library
    token: str
    scopes: ScopeTable

    def __call__(self) -> Response | None:
        if not _under_v3(request.path):
            return None
        rule = request.url_rule.rule if request.url_rule is not None else None
        requirements = self.scopes.requirements(rule, request.method)
        if not requirements:
            return None  # the document says: no key (the OpenAPI document itself)
        given = bearer_token(request.headers.get("Authorization"))
        if given is None:
            return _unauthorized(
                "unauthorized",
                "This API needs 'Authorization: Bearer <token>'; 'imageshelf token --library "
                "DIR' prints the library's token, 'imageshelf keys create' makes a key.",
            )
        key = self._identify(given)
        if key is None:
            return _unauthorized(
                "invalid_token",
                "The bearer token is not a key of this library (or it was revoked); "
                "'imageshelf keys list --library DIR' shows the keys.",
            )
        if key.expired():
            return _unauthorized("expired_token", f"The API key {key.name!r} has expired.")
        setattr(g, _KEY_G, key)
        setattr(g, _PRINCIPAL_G, principal_for(given))
        if not satisfies(key.grants, requirements):
            needed = " or ".join(" ".join(s for s in req.get("bearer", [])) for req in requirements)
            return error_response(
                403,
                "insufficient_scope",
                f"The API key {key.name!r} ({key.scope}) cannot do this: it needs the "
                f"{needed} scope.",
                {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{needed}"'},
            )
        image_id = (request.view_args or {}).get("image_id")
        if isinstance(image_id, str) and not self.library.keys.image_visible(key.limit, image_id):
            raise NotFound(f"There is no image with id {image_id}.")
        return None

    def _identify(self, given: str) -> ApiKey | None:
        if hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), self.token.encode("utf-8")
        ):
            return admin_key()
        return self.library.keys.verify(given)


def _unauthorized(code: str, message: str) -> Response:
    return error_response(401, code, message, {"WWW-Authenticate": "Bearer"})


def install(app: Flask, library: Library, token: str, document: Mapping[str, Any]) -> ScopeTable:
    """Puts the check in front of every ``/v3`` view; call it once every blueprint is
    registered (the table is built from the app's rules as they are then)."""
    scopes = ScopeTable(app, document)
    app.before_request(Gate(library, token, scopes))
    app.extensions["imageshelf_scopes"] = scopes
    return scopes


# --- for views -----------------------------------------------------------------------------


def current_key() -> ApiKey:
    """The key of this request (the admin key outside ``/v3`` checks)."""
    key: ApiKey | None = g.get(_KEY_G)
    return key if key is not None else admin_key()


def current_limit() -> FolderLimit | None:
    """The folders this request's key is limited to; ``None``: every folder."""
    return current_key().limit


def current_principal() -> str | None:
    principal: str | None = g.get(_PRINCIPAL_G)
    return principal


def require_folder(folder: str | None) -> None:
    """``OutsideKeyFolders`` (403) when the key may not place an image in ``folder``."""
    limit = current_limit()
    if limit is not None and not limit.allows(folder):
        where = f"'{folder}'" if folder else "the top level"
        raise OutsideKeyFolders(
            f"The API key {current_key().name!r} is limited to "
            f"{', '.join(limit.folders)}; it cannot place an image in {where}."
        )
