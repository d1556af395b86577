"""mDNS discovery: announced on the LAN address a server listens on, withdrawn when it
stops, never while it listens on loopback — on the wire inside a network namespace the
test makes (``unshare -rn``: no real network is ever touched), and deterministically."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer
from imageshelf.server.discovery import Announcer, lan_addresses

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE_SETUP = (
    "ip link set lo up && ip link set lo multicast on && "
    "ip addr add 10.99.0.1/24 dev lo && ip addr add 10.98.0.1/24 dev lo && "
    "ip route add 224.0.0.0/4 dev lo && "
)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"])
def test_nothing_is_announced_on_loopback(host: str) -> None:
    assert lan_addresses(host) == []
    announcer = Announcer(host, 8765, version="1").start()
    assert not announcer.active  # no thread, no Zeroconf, no socket
    announcer.stop()


def test_a_loopback_server_announces_nothing(library: Library) -> None:
    server = BackgroundServer(library, host="127.0.0.1", port=0, token="t", announce=True)
    server.start()
    try:
        assert server.announcer is not None and not server.announcer.active
    finally:
        server.stop()


def test_lan_addresses_of_a_named_address() -> None:
    assert lan_addresses("192.0.2.7") == ["192.0.2.7"]
    assert "127.0.0.1" not in lan_addresses("0.0.0.0")
    assert "::1" not in lan_addresses("::")


def _namespace_works() -> str | None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip is not installed (util-linux, iproute2)"
    probe = subprocess.run(
        ["unshare", "-rn", "sh", "-c", NAMESPACE_SETUP + "true"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0:
        return f"this system refuses a user+network namespace: {probe.stderr.strip()}"
    return None


def test_announced_on_the_lan_address_and_withdrawn_on_stop(tmp_path: Path) -> None:
    why = _namespace_works()
    if why:
        pytest.skip(f"mDNS on the wire needs a private network namespace; {why}")
    env = {
        **os.environ,
        "IMAGESHELF_ANNOUNCE": "1",  # off for tests elsewhere; this network is private
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [
            "unshare",
            "-rn",
            "sh",
            "-c",
            NAMESPACE_SETUP + 'exec "$0" -m tests.server.mdns_namespace "$1"',
            sys.executable,
            str(tmp_path / "lib"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["loopback_announced"] is False
    assert seen["added"] is True
    # Only the address it listens on, though the machine has another (10.98.0.1).
    assert seen["addresses"] == ["10.99.0.1"] and seen["info_port"] == seen["port"]
    assert seen["txt"]["path"] == "/v3" and seen["txt"]["version"]
    # One server announced (the loopback one is not), under both service types.
    assert [len(v) for v in seen["names"].values()] == [1, 1]
    assert seen["removed"] is True
    assert seen["discover_exit"] == 0
    [found] = seen["discovered"]
    assert found["api"] == [f"http://10.99.0.1:{seen['port']}/v3"] and found["version"]
    assert seen["discover_exit_after"] == 3  # withdrawn: nobody answers any more
    assert sorted(seen["every_interface"]) == ["10.98.0.1", "10.99.0.1"]
