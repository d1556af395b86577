"""Run inside a network namespace made by ``tests/server/test_discovery.py`` (``unshare
-rn``: only ``lo``, carrying 10.99.0.1 and 10.98.0.1 and multicast): a server on
10.99.0.1 is announced and withdrawn, one on loopback is not. Prints one JSON object."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import threading
from pathlib import Path

from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

from imageshelf.app.cli import main as cli_main
from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer
from imageshelf.server.discovery import IMAGESHELF_TYPE, SERVICE_TYPES, lan_addresses

WAIT = 30.0


def main(root: Path) -> dict[str, object]:
    out: dict[str, object] = {"every_interface": lan_addresses("0.0.0.0")}
    added = {kind: threading.Event() for kind in SERVICE_TYPES}
    removed = {kind: threading.Event() for kind in SERVICE_TYPES}
    names: dict[str, set[str]] = {kind: set() for kind in SERVICE_TYPES}

    def changed(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Added:
            names[service_type].add(name)
            added[service_type].set()
        elif state_change is ServiceStateChange.Removed:
            removed[service_type].set()

    listener = Zeroconf(interfaces=["10.98.0.1"])
    browser = ServiceBrowser(listener, list(SERVICE_TYPES), handlers=[changed])
    with Library.open(root) as library:
        loopback = BackgroundServer(library, host="127.0.0.1", port=0, token="t").start()
        out["loopback_announced"] = loopback.announcer is not None and loopback.announcer.active
        lan = BackgroundServer(library, host="10.99.0.1", port=0, token="t").start()
        out["port"] = lan.port
        out["added"] = all(e.wait(WAIT) for e in added.values())
        info = listener.get_service_info(IMAGESHELF_TYPE, sorted(names[IMAGESHELF_TYPE])[0], 5000)
        assert info is not None
        out["addresses"] = info.parsed_addresses()
        out["info_port"] = info.port
        out["txt"] = {k.decode(): (v or b"").decode() for k, v in info.properties.items()}
        out["names"] = {k: sorted(v) for k, v in names.items()}
        # What `imageshelf discover --json` prints, through the command itself.
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            out["discover_exit"] = cli_main(["discover", "--seconds", "2", "--json"])
        out["discovered"] = json.loads(printed.getvalue())
        lan.stop()
        out["removed"] = all(e.wait(WAIT) for e in removed.values())
        with contextlib.redirect_stdout(io.StringIO()):
            out["discover_exit_after"] = cli_main(["discover", "--seconds", "1"])
        loopback.stop()
    browser.cancel()
    listener.close()
    return out


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
