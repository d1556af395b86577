"""The HTTP server inside the window's process: started on the window's ``Library``,
restarted when the port, sharing or token change, and stopped with the window.

"Share on the local network" listens on every interface (0.0.0.0); links copied then use
the machine's LAN address instead of 127.0.0.1."""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any

from PySide6.QtCore import QObject, Signal

from imageshelf.app.library import Library, LibraryError, rules

log = logging.getLogger(__name__)

LOOPBACK = rules.DEFAULT_HOST
ALL_INTERFACES = "0.0.0.0"
# A documentation-only address (RFC 5737): connect() on a UDP socket picks the outgoing
# interface without sending a single packet, and nothing is there anyway.
_NO_ROUTE_PROBE = ("192.0.2.1", 9)


def lan_address() -> str | None:
    """This machine's address on the local network, found without sending traffic."""
    candidates: list[str] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(_NO_ROUTE_PROBE)
            candidates.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            candidates.append(str(info[4][0]))
    except OSError:
        pass
    for address in candidates:
        ip = ipaddress.ip_address(address)
        if not ip.is_loopback and not ip.is_unspecified and not ip.is_link_local:
            return address
    return None


class ServerController(QObject):
    """Owns the ``BackgroundServer``. ``state_changed`` fires after every start/stop."""

    state_changed = Signal()

    def __init__(
        self,
        library: Library,
        *,
        host: str = LOOPBACK,
        port: int = rules.DEFAULT_PORT,
        library_token: str | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.host = host
        self.port = port
        self.server: Any = None
        self.error: str | None = None
        self.token: str | None = None  # the token the running server checks
        self.token_from_env = False
        # The library's own token once known (read by whoever opened the library, or by
        # the first start, or made by Regenerate on a worker): a restart from the GUI
        # thread then reads no file. Elsewhere it changes only with `imageshelf token
        # --regenerate`, which needs the library's lock (this process holds it); a
        # change that got past that is read at the next open.
        self.library_token = library_token

    @property
    def sharing(self) -> bool:
        return self.host in (ALL_INTERFACES, "::")

    @property
    def running(self) -> bool:
        return self.server is not None

    @property
    def actual_port(self) -> int:
        return int(self.server.port) if self.server is not None else self.port

    def _launch(self, host: str, port: int) -> tuple[Any, str | None]:
        """A new server on ``host:port``, listening, or the reason it is not."""
        try:
            from imageshelf.server.auth import configured_token
            from imageshelf.server.runner import BackgroundServer
        except ImportError as exc:  # the server package is optional for the window
            return None, f"The HTTP server is not available: {exc}."
        try:
            # $IMAGESHELF_API_TOKEN, when set, exactly as `imageshelf serve` honours it.
            self.token, self.token_from_env = configured_token(self.library, self.library_token)
            if not self.token_from_env:
                self.library_token = self.token
            server = BackgroundServer(self.library, host=host, port=port, token=self.token)
            server.start()
        except LibraryError as exc:
            # The server speaks to command-line users; here the port is set in a dialog.
            return None, exc.message.replace("with --port", "in File → Server settings")
        except OSError as exc:
            return None, f"The HTTP server could not start: {exc.strerror or exc}."
        return server, None

    def start(self) -> str | None:
        """(Re)starts listening; returns a readable reason when it could not (port taken)."""
        self.stop()
        self.server, self.error = self._launch(self.host, self.port)
        self.state_changed.emit()
        return self.error

    def stop(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            try:
                server.stop(timeout=2.0)
            except Exception:
                log.exception("stopping the HTTP server failed")
            self.state_changed.emit()

    def reconfigure(self, *, port: int, sharing: bool) -> str | None:
        """Moves the server to ``port`` / sharing. The new address is opened before the
        old one is closed, so a port that cannot be used leaves the server where it was
        (the message says so); only a change of sharing on the same port has to close
        first, and then reopens the old address if the new one fails."""
        host = ALL_INTERFACES if sharing else LOOPBACK
        if self.server is None:
            self.host, self.port = host, port
            return self.start()
        old_host, old_port, old_server = self.host, self.actual_port, self.server
        server, error = self._launch(host, port)
        if server is None and port == old_port:
            self.stop()  # the old socket holds that port: free it, then try
            server, error = self._launch(host, port)
            if server is None:
                old_server, _again = self._launch(old_host, old_port)
        if server is not None:
            if self.server is not None:
                self.stop()
            self.server, self.host, self.port, self.error = server, host, port, None
            self.state_changed.emit()
            return None
        self.server = old_server
        self.error = None if old_server is not None else error
        self.state_changed.emit()
        if old_server is not None:
            return f"{error}\n\nThe server stays on {self.base_url()}, as before."
        return error

    def base_url(self) -> str:
        """Where other programs reach the server: the LAN address when sharing."""
        port = self.actual_port
        if self.sharing:
            return f"http://{lan_address() or socket.gethostname()}:{port}"
        host = self.host if self.host not in ("", "localhost") else LOOPBACK
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}"

    def link(self, image_id: str) -> str:
        return rules.image_link(self.base_url(), image_id)

    def status_text(self) -> str:
        if self.server is None:
            return f"API off — {self.error}" if self.error else "API off"
        where = "shared on the network" if self.sharing else "this computer only"
        return f"API on {self.base_url()} ({where})"
