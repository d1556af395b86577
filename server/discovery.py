"""Finding the server on the LAN: mDNS/DNS-SD (RFC 6762/6763) with python-zeroconf.

While the server listens on a LAN address it announces ``_imageshelf._tcp`` and
``_http._tcp`` (TXT ``path=/v3``, ``version``) on the addresses it listens on only —
the interfaces of those addresses, nothing else — and withdraws them (goodbye packets)
when it stops. Bound to loopback it announces nothing: no Zeroconf instance, no socket
(``lan_addresses`` is empty, so ``Announcer.start`` does nothing). ``browse`` is what
``imageshelf discover`` runs.

Registering waits for mDNS probing (about a second), so it runs in a thread of its own:
a server starts at once, and ``stop`` waits for the announcement before withdrawing."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
from dataclasses import dataclass
from typing import Final

log = logging.getLogger(__name__)

SERVICE_TYPES: Final = ("_imageshelf._tcp.local.", "_http._tcp.local.")
IMAGESHELF_TYPE: Final = SERVICE_TYPES[0]
API_PATH: Final = "/v3"
# ``IMAGESHELF_ANNOUNCE=0`` keeps a server on a LAN address unannounced (the tests set it).
ANNOUNCE_ENV: Final = "IMAGESHELF_ANNOUNCE"
# A DNS label is at most 63 bytes: the instance name is cut to fit.
_MAX_LABEL_BYTES: Final = 63


def _usable(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    return not (address.is_loopback or address.is_unspecified or address.is_link_local)


def _all_interface_addresses(ipv6: bool) -> list[str]:
    import ifaddr  # zeroconf's own dependency

    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str):
                found.append(ip.ip)
            elif ipv6:
                found.append(ip.ip[0])
    return found


def lan_addresses(host: str) -> list[str]:
    """The LAN addresses a server bound to ``host`` is reached on: none for loopback,
    every interface's for ``0.0.0.0`` (IPv4) or ``::`` (both), else ``host`` itself (or
    what its name resolves to)."""
    name = host.strip().strip("[]")
    if name in ("", "0.0.0.0"):
        candidates = _all_interface_addresses(ipv6=False)
    elif name == "::":
        candidates = _all_interface_addresses(ipv6=True)
    else:
        try:
            ipaddress.ip_address(name)
            candidates = [name]
        except ValueError:
            try:
                candidates = [str(i[4][0]) for i in socket.getaddrinfo(name, None)]
            except OSError:
                return []
    return list(dict.fromkeys(ip for ip in candidates if _usable(ip)))


def announcing_allowed() -> bool:
    return os.environ.get(ANNOUNCE_ENV, "1").strip() not in ("0", "false", "no", "off")


def instance_name(machine: str | None = None) -> str:
    """``Imageshelf on <machine>``, cut to one DNS label."""
    text = f"Imageshelf on {machine or socket.gethostname().split('.')[0] or 'this computer'}"
    raw = text.encode()[:_MAX_LABEL_BYTES]
    return raw.decode("utf-8", "ignore").replace(".", "-")


def _packed(ip: str) -> bytes:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    return socket.inet_pton(family, ip)


class Announcer:
    """Announces one server (``host``:``port``) while running; ``start``/``stop``."""

    def __init__(self, host: str, port: int, *, version: str, machine: str | None = None) -> None:
        self.addresses = lan_addresses(host)
        self.port = port
        self.version = version
        self.name = instance_name(machine)
        self._zeroconf: object | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._stopping = False
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """Whether anything is (being) announced: never on loopback."""
        return self._thread is not None

    def start(self) -> Announcer:
        if not self.addresses:
            return self  # loopback only: nothing on the network, no socket opened
        self._thread = threading.Thread(target=self._announce, name="imageshelf-mdns", daemon=True)
        self._thread.start()
        return self

    def wait_announced(self, timeout: float) -> bool:
        return self._done.wait(timeout)

    def _announce(self) -> None:
        try:
            from zeroconf import IPVersion, ServiceInfo, Zeroconf

            v6 = any(":" in ip for ip in self.addresses)
            v4 = any(":" not in ip for ip in self.addresses)
            version = IPVersion.All if v4 and v6 else IPVersion.V6Only if v6 else IPVersion.V4Only
            zc = Zeroconf(interfaces=list(self.addresses), ip_version=version)
            with self._lock:
                if self._stopping:
                    zc.close()
                    return
                self._zeroconf = zc
            properties = {"path": API_PATH, "version": self.version}
            server = f"{socket.gethostname().split('.')[0] or 'imageshelf'}.local."
            for kind in SERVICE_TYPES:
                zc.register_service(
                    ServiceInfo(
                        kind,
                        f"{self.name}.{kind}",
                        addresses=[_packed(ip) for ip in self.addresses],
                        port=self.port,
                        properties=properties,
                        server=server,
                    ),
                    allow_name_change=True,
                )
            log.info(
                "Announced on the LAN (mDNS) at %s port %s", ", ".join(self.addresses), self.port
            )
        except Exception:
            # Discovery is a convenience: a network that refuses multicast leaves the
            # server serving, unannounced.
            log.warning("Could not announce the server on the LAN (mDNS)", exc_info=True)
        finally:
            self._done.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Withdraws the announcements (goodbye packets) and closes the sockets."""
        with self._lock:
            self._stopping = True
        if self._thread is None:
            return
        self._thread.join(timeout)
        with self._lock:
            zc, self._zeroconf = self._zeroconf, None
        if zc is not None:
            try:
                zc.unregister_all_services()  # type: ignore[attr-defined]
            finally:
                zc.close()  # type: ignore[attr-defined]
        self._thread = None


@dataclass(frozen=True, slots=True)
class Found:
    name: str
    addresses: tuple[str, ...]
    port: int
    path: str
    version: str

    @property
    def urls(self) -> list[str]:
        return [
            (f"http://[{ip}]:{self.port}" if ":" in ip else f"http://{ip}:{self.port}")
            for ip in self.addresses
        ]


def browse(seconds: float, interfaces: list[str] | None = None) -> list[Found]:
    """Imageshelf servers answering on the network within ``seconds``."""
    from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

    zc = Zeroconf(interfaces=interfaces) if interfaces else Zeroconf()
    names: set[str] = set()
    lock = threading.Lock()

    def changed(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        with lock:
            if state_change is ServiceStateChange.Removed:
                names.discard(name)
            else:
                names.add(name)

    try:
        browser = ServiceBrowser(zc, IMAGESHELF_TYPE, handlers=[changed])
        threading.Event().wait(seconds)  # answers come in for this long: DNS-SD has no end
        browser.cancel()
        found = []
        with lock:
            listed = sorted(names)
        for name in listed:
            info = zc.get_service_info(IMAGESHELF_TYPE, name, timeout=2000)
            if info is None or info.port is None:
                continue
            props = {
                k.decode(errors="replace"): (v or b"").decode(errors="replace")
                for k, v in info.properties.items()
            }
            found.append(
                Found(
                    name.removesuffix("." + IMAGESHELF_TYPE),
                    tuple(info.parsed_scoped_addresses()),
                    int(info.port),
                    props.get("path", API_PATH),
                    props.get("version", ""),
                )
            )
        return found
    finally:
        zc.close()


def default_version() -> str:
    from imageshelf.app.cli import version

    return version()
