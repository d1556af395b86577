"""Bearer-token auth for ``/v3``: ``Authorization: Bearer <token>``, compared in
constant time; anything else is ``401`` with ``WWW-Authenticate: Bearer``."""

from __future__ import annotations

import hmac

from werkzeug.wrappers import Response

from .errors import error_response


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
