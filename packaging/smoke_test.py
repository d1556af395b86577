"""Smoke test of the one-folder bundle (``make bundle-test``): the bundled ``imageshelf``
answers --version, ``serve`` answers HTTP and takes an import through the CLI, and the
window (offscreen) starts and serves its library. Exit status 0 when all of it works.

    python packaging/smoke_test.py dist/imageshelf/imageshelf
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

TIMEOUT = 120.0


def tiny_png() -> bytes:
    """A 1x1 red PNG, made without Pillow (the bundle is tested from any Python)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as reply:
        return reply.read()  # type: ignore[no-any-return]


def wait_for(what: str, check: object, timeout: float = TIMEOUT) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()  # type: ignore[operator]
        if found:
            return found
        time.sleep(0.1)
    raise SystemExit(f"smoke test: timed out waiting for {what}")


def stop(proc: subprocess.Popen[str], name: str) -> None:
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=TIMEOUT)
    if code != 0:
        raise SystemExit(f"smoke test: {name} exited {code}")


def main(exe: str) -> int:
    with tempfile.TemporaryDirectory(prefix="imageshelf-smoke-") as tmp:
        root = Path(tmp)
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_CONFIG_HOME": str(root / "config"),
            "IMAGESHELF_LOG_DIR": str(root / "log"),
        }
        version = subprocess.run([exe, "--version"], capture_output=True, text=True, env=env)
        print(version.stdout.strip())
        if version.returncode != 0 or not re.match(r"imageshelf \d", version.stdout):
            raise SystemExit(f"smoke test: --version said {version.stdout!r} {version.stderr!r}")

        # serve, and an import through it
        library = root / "served"
        serve = subprocess.Popen(
            [exe, "--library", str(library), "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        try:
            assert serve.stdout is not None
            lines = []
            for line in serve.stdout:
                lines.append(line)
                if "Press Ctrl+C" in line:
                    break
            match = re.search(r"Listening on (http://\S+)", "".join(lines))
            if not match:
                raise SystemExit("smoke test: serve did not start:\n" + "".join(lines))
            base = match.group(1)
            assert json.loads(get(base + "/v3/openapi.json"))["openapi"].startswith("3.1")
            picture = root / "red.png"
            picture.write_bytes(tiny_png())
            imported = subprocess.run(
                [exe, "--library", str(library), "import", str(picture)],
                capture_output=True,
                text=True,
                env=env,
                timeout=TIMEOUT,
            )
            if imported.returncode != 0 or "running Imageshelf" not in imported.stderr:
                raise SystemExit(f"smoke test: import said {imported.stderr!r}")
            print(f"serve: {base} answered, import went through it")
            stop(serve, "serve")
        finally:
            if serve.poll() is None:
                serve.kill()
            if serve.stdout is not None:
                serve.stdout.close()

        # the window: it starts its server after the first paint and records where
        library = root / "windowed"
        window = subprocess.Popen(
            [exe, "--library", str(library), "--port", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        try:
            address = library / ".imageshelf" / "server.json"
            wait_for("the window's server.json", address.is_file)
            url = json.loads(address.read_text())["url"]
            assert json.loads(get(url + "/v3/openapi.json"))["openapi"].startswith("3.1")
            print(f"window: painted and serving at {url}")
            stop(window, "the window")
        finally:
            if window.poll() is None:
                window.kill()
                window.wait()
    print("bundle smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "dist/imageshelf/imageshelf"))
