"""WSGI layers in front of the whole application (the ``/i`` fast path included).

- ``HostCheck``: while the server listens on loopback only, a request naming another
  ``Host`` is a browser tricked by DNS rebinding into talking to this machine:
  ``421 misdirected_request`` (contract, Part 2, "Share links").
- ``DecodeScope``: every decode a request starts waits a bounded time for the process's
  decode budget (then ``503`` with ``Retry-After``) and stops as soon as the client has
  disconnected (waitress tells: ``waitress.client_disconnected``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from imageshelf.app.library import rules
from imageshelf.app.library.decode_budget import request_scope

from .errors import error_response
from .share_page import html_error, prefers_html

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# How long an upload or thumbnail waits for other decodes to finish before a 503: eight
# 100-megapixel uploads at once, decoded one or two at a time, all finish within it.
DECODE_WAIT_SECONDS = 60.0  # not Final: tests shorten it
LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "[::1]"})
_SEEN_HOSTS: Final = 64  # distinct Host headers remembered (a forger can send any)


def is_loopback_host(host: str) -> bool:
    """Whether binding to ``host`` listens on loopback only."""
    name = host.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_name(value: str) -> str:
    """``Host`` without its port, lower case: ``[::1]:8765`` → ``[::1]``."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[: end + 1] if end > 0 else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class HostCheck:
    """Refuses requests whose ``Host`` is not a loopback name (or the public URL's)."""

    def __init__(self, app: WSGIApplication, public_url: str | None = None) -> None:
        self.app = app
        self.allowed = set(LOOPBACK_NAMES)
        if public_url:
            public = urlsplit(public_url).netloc
            if public:
                self.allowed.add(_host_name(public))
        self._seen: dict[str, bool] = {}

    def allows(self, host: str | None) -> bool:
        """Whether a request with this ``Host`` header (``None``: none) is answered. The
        few distinct headers a server sees are remembered (bounded): a request then pays
        one dict read, not the parsing."""
        if host is None:
            return True
        known = self._seen.get(host)
        if known is None:
            known = _host_name(host) in self.allowed
            if len(self._seen) >= _SEEN_HOSTS:
                self._seen.clear()
            self._seen[host] = known
        return known

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.allows(environ.get("HTTP_HOST")):
            return self.app(environ, start_response)
        message = (
            "This server only answers requests addressed to localhost, 127.0.0.1 or [::1] "
            "while it listens on this computer only."
        )
        path: str = environ.get("PATH_INFO", "")
        if path.startswith(rules.SHARE_LINK_PREFIX) and prefers_html(environ.get("HTTP_ACCEPT")):
            # Errors under /s/ are a page for a browser (the contract, "Share links").
            return html_error(421, message)(environ, start_response)
        response = error_response(421, "misdirected_request", message)
        return response(environ, start_response)


class DecodeScope:
    """Runs each request inside a decode-budget scope of its own."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        wait = DECODE_WAIT_SECONDS  # read each time: tests shorten it
        with request_scope(wait=wait, cancelled=environ.get("waitress.client_disconnected")):
            return self.app(environ, start_response)
