"""Bearer-token auth for ``/v3``: ``Authorization: Bearer <token>``, compared in
constant time; anything else is ``401`` with ``WWW-Authenticate: Bearer``."""

from __future__ import annotations

import hmac
import os
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from .errors import error_response

if TYPE_CHECKING:
    from imageshelf.app.library import Library

TOKEN_ENV = "IMAGESHELF_API_TOKEN"


def configured_token(library: Library) -> tuple[str, bool]:
    """The token ``/v3`` asks for, the one rule for ``imageshelf serve`` and the window's
    server alike (the contract: the environment sets the token): ``$IMAGESHELF_API_TOKEN``
    when set and not blank, else the one kept in the library. Second: from the
    environment."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return token, True
    return library.api_token(), False


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


def check_bearer(authorization: str | None, expected: str) -> Response | None:
    """``None`` when the header carries ``expected``; the 401 response otherwise."""
    given = bearer_token(authorization)
    if given is not None and hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8")
    ):
        return None
    if given is None:
        code, message = (
            "unauthorized",
            (
                "This API needs 'Authorization: Bearer <token>'; "
                "'imageshelf token --library DIR' prints the token."
            ),
        )
    else:
        code, message = (
            "invalid_token",
            (
                "The bearer token is not this library's; "
                "'imageshelf token --library DIR' prints the right one."
            ),
        )
    return error_response(401, code, message, {"WWW-Authenticate": "Bearer"})
