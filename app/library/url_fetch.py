"""Fetching an image from a URL without letting the URL reach inside (SSRF).

The host is resolved once and every address it resolves to is checked — loopback,
private, link-local, shared, multicast, reserved and unspecified are refused, also when
spelled as an IPv4-mapped, 6to4, Teredo or NAT64 IPv6 address; odd IPv4 spellings
(``127.1``, ``2130706433``, ``0x7f.1``) resolve to the address they mean and are checked
as that. The connection then goes to a checked address (never a second lookup that a
rebinding DNS could answer differently), with TLS verified against the URL's host name.
Redirects are followed by hand (at most ``MAX_FETCH_REDIRECTS``), each checked the same
way. ``http.client`` is used directly, so no proxy from the environment applies. Bytes
are counted and timed as they stream into the sink; nothing is kept on any refusal.

``IMAGESHELF_FETCH_ALLOW`` (comma-separated) lets through host names as written in the
URL, and addresses or networks among the resolved addresses: a NAS on the LAN, a test."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urljoin, urlsplit

from . import rules
from .errors import (
    Cancelled,
    InvalidUrl,
    TooLarge,
    UpstreamError,
    UpstreamTimeout,
    UrlNotAllowed,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int = rules.MAX_UPLOAD_BYTES
    connect_s: float = rules.FETCH_CONNECT_S
    total_s: float = rules.FETCH_TOTAL_S
    max_redirects: int = rules.MAX_FETCH_REDIRECTS


class Sink(Protocol):
    def write(self, data: bytes) -> int: ...


# (bytes received, bytes announced by Content-Length or None)
FetchProgress = Callable[[int, int | None], None]


class Cancel:
    """Stops a fetch from another thread (the window's Cancel): the flag is looked at
    between chunks, and the socket is shut down, so a read waiting on a silent server
    returns at once instead of at the time limit."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()
        with self._lock:
            self._shut()

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self._event.is_set():
                self._shut()

    def _shut(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # not connected yet, or closed already
                self._sock.shutdown(socket.SHUT_RDWR)

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("Cancelled; nothing was added.")


@dataclass(frozen=True, slots=True)
class Allow:
    names: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def from_env(cls) -> Allow:
        names: set[str] = set()
        networks = []
        for entry in os.environ.get(rules.FETCH_ALLOW_ENV, "").split(","):
            entry = entry.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.lower().rstrip("."))
        return cls(frozenset(names), tuple(networks))

    def address(self, addr: IPAddress) -> bool:
        return any(addr.version == n.version and addr in n for n in self.networks)


def _public(addr: IPAddress) -> bool:
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = [addr.ipv4_mapped, addr.sixtofour]
        if addr.teredo is not None:
            embedded.extend(addr.teredo)
        if any(addr in net for net in _NAT64):
            embedded.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
        if any(e is not None and not _public(e) for e in embedded):
            return False
    return (
        addr.is_global
        and not addr.is_multicast
        and not addr.is_reserved
        and not addr.is_private
        and not addr.is_loopback
        and not addr.is_link_local
        and not addr.is_unspecified
    )


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as written (lower case, no brackets)
    port: int
    path: str  # path and query, for the request line
    host_header: str


def parse_url(url: object) -> Target:
    if not isinstance(url, str) or not url:
        raise InvalidUrl("url must be an http or https URL.")
    if len(url) > rules.MAX_URL_CHARS:
        raise InvalidUrl(f"A URL is at most {rules.MAX_URL_CHARS:,} characters.")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise InvalidUrl("A URL has no spaces or control characters; encode them.")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise InvalidUrl(f"{url[:100]!r} is not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidUrl("Only http and https URLs can be fetched.")
    if parts.username is not None or parts.password is not None:
        raise InvalidUrl("A URL with a user name or password is not accepted.")
    if not host:
        raise InvalidUrl(f"{url[:100]!r} has no host.")
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidUrl(f"The host {host!r} is not a valid name.") from None
    port = port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    netloc_host = f"[{host}]" if ":" in host else host
    default = (parts.scheme, port) in (("http", 80), ("https", 443))
    header = netloc_host if default else f"{netloc_host}:{port}"
    return Target(parts.scheme, host, port, path, header)


def resolve(target: Target, allow: Allow) -> list[IPAddress]:
    """Every address of the host, each checked; ``UrlNotAllowed`` when one is not
    public (and not allowed)."""
    addrs: list[IPAddress] = []
    name = target.host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        # RFC 6761 6.3: these names are this computer, whatever a resolver (or a missing
        # /etc/hosts) would say; never asked of DNS.
        addrs = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    else:
        try:
            infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise UpstreamError(f"The host {target.host!r} could not be found.") from None
        for info in infos:
            addr = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if addr not in addrs:
                addrs.append(addr)
    name_allowed = target.host.rstrip(".") in allow.names
    for addr in addrs:
        if not (name_allowed or allow.address(addr) or _public(addr)):
            raise UrlNotAllowed(
                f"{target.host} resolves to {addr}, an address on this computer or its "
                f"network; such URLs are refused (an administrator can allow them with "
                f"{rules.FETCH_ALLOW_ENV})."
            )
    if not addrs:
        raise UpstreamError(f"The host {target.host!r} has no address.")
    return addrs


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to one checked address, TLS verified for the URL's host."""

    def __init__(
        self, target: Target, addr: IPAddress, connect_s: float, cancel: Cancel | None = None
    ) -> None:
        super().__init__(str(addr), target.port, timeout=connect_s)
        self.target = target
        self.addr = addr
        self.cancel = cancel

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self.addr), self.target.port), self.timeout)
        if self.cancel is not None:
            self.cancel.attach(self.sock)
        if self.target.scheme == "https":
            context = ssl.create_default_context()
            self.sock = context.wrap_socket(self.sock, server_hostname=self.target.host)
            if self.cancel is not None:
                self.cancel.attach(self.sock)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise UpstreamTimeout("The server sending the image took longer than allowed.")
    return left


def _open(
    target: Target,
    addrs: list[IPAddress],
    limits: FetchLimits,
    deadline: float,
    cancel: Cancel | None = None,
) -> tuple[_PinnedConnection, http.client.HTTPResponse]:
    last: Exception | None = None
    for addr in addrs:
        if cancel is not None:
            cancel.check()
        connect_s = min(limits.connect_s, _remaining(deadline))
        conn = _PinnedConnection(target, addr, connect_s, cancel)
        try:
            conn.putrequest("GET", target.path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", target.host_header)
            conn.putheader("User-Agent", "Imageshelf")
            conn.putheader("Accept", "image/*")
            conn.endheaders()
            assert conn.sock is not None
            conn.sock.settimeout(_remaining(deadline))
            return conn, conn.getresponse()
        except TimeoutError:
            conn.close()
            raise UpstreamTimeout(f"{target.host} did not answer in time.") from None
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            last = exc
    raise UpstreamError(f"Could not fetch from {target.host}: {last}.")


def fetch(
    url: object,
    sink: Sink,
    limits: FetchLimits | None = None,
    *,
    cancel: Cancel | None = None,
    progress: FetchProgress | None = None,
) -> None:
    """Streams the image at ``url`` into ``sink`` (which enforces nothing itself here:
    the byte limit is counted as it arrives). Raises ``InvalidUrl``, ``UrlNotAllowed``,
    ``UpstreamError``, ``UpstreamTimeout`` or ``TooLarge``; ``Cancelled`` once ``cancel``
    is set, whatever the broken-off connection said."""
    try:
        _fetch(url, sink, limits or FetchLimits(), cancel, progress)
    except (UpstreamError, UpstreamTimeout, OSError, http.client.HTTPException):
        if cancel is not None:
            cancel.check()
        raise
    if cancel is not None:
        cancel.check()  # a shut-down socket reads as the end of the body


def _fetch(
    url: object,
    sink: Sink,
    limits: FetchLimits,
    cancel: Cancel | None,
    progress: FetchProgress | None,
) -> None:
    allow = Allow.from_env()
    deadline = time.monotonic() + limits.total_s
    current = url
    for hop in range(limits.max_redirects + 1):
        target = parse_url(current)
        addrs = resolve(target, allow)
        conn, response = _open(target, addrs, limits, deadline, cancel)
        try:
            if response.status in _REDIRECTS and response.getheader("Location"):
                if hop == limits.max_redirects:
                    raise UpstreamError(
                        f"The URL redirected more than {limits.max_redirects} times."
                    )
                current = urljoin(str(current), response.getheader("Location", ""))
                continue
            if response.status >= 400:
                raise UpstreamError(f"{target.host} answered {response.status} {response.reason}.")
            if response.status != 200:
                raise UpstreamError(f"{target.host} answered {response.status}, not the image.")
            declared = response.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                raise TooLarge(f"The image at that URL is over {limits.max_bytes:,} bytes.")
            announced = int(declared) if declared and declared.isdigit() else None
            _stream(conn, response, sink, limits, deadline, cancel, progress, announced)
            return
        finally:
            conn.close()
    raise UpstreamError("Too many redirects.")  # not reached: the loop raises first


def _stream(
    conn: _PinnedConnection,
    response: http.client.HTTPResponse,
    sink: Sink,
    limits: FetchLimits,
    deadline: float,
    cancel: Cancel | None = None,
    progress: FetchProgress | None = None,
    announced: int | None = None,
) -> None:
    total = 0
    while True:
        if cancel is not None:
            cancel.check()
        if conn.sock is not None:
            conn.sock.settimeout(_remaining(deadline))
        try:
            data = response.read1(_CHUNK)
        except TimeoutError:
            raise UpstreamTimeout(
                "The server sending the image took longer than allowed."
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise UpstreamError(f"The download broke off: {exc}.") from None
        if not data:
            return
        total += len(data)
        if total > limits.max_bytes:
            raise TooLarge(f"The image at that URL is over {limits.max_bytes:,} bytes.")
        sink.write(data)
        if progress is not None:
            progress(total, announced)


def name_from_url(url: str) -> str | None:
    """The last path segment of the URL asked for, decoded; ``None`` when empty."""
    segment = unquote(urlsplit(url).path.rsplit("/", 1)[-1]).strip()
    return segment or None
