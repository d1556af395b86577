"""``imageshelf serve`` and ``imageshelf token`` as a person runs them: a child process
on a temp library, stopped with SIGTERM, killed with SIGKILL, restarted."""

from __future__ import annotations

import hashlib
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from tests.conftest import image_bytes
from tests.server.serve_process import REPO, ServeProcess

ENV_TOKEN = "env-token-for-tests"
AUTH = {"Authorization": f"Bearer {ENV_TOKEN}"}


def serve(processes: list[ServeProcess], library: Path, *args: str, **kw: object) -> ServeProcess:
    proc = ServeProcess(library, "--port", "0", *args, env={"IMAGESHELF_API_TOKEN": ENV_TOKEN})
    processes.append(proc)
    return proc.start(**kw)  # type: ignore[arg-type]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imageshelf", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def upload(base_url: str, content: bytes, name: str, **form: str) -> requests.Response:
    return requests.post(
        f"{base_url}/v3/images",
        headers=AUTH,
        files={"file": (name, content)},
        data=form,
        timeout=60,
    )


def test_stop_and_restart_keep_everything(processes: list[ServeProcess], tmp_path: Path) -> None:
    library = tmp_path / "Bibliothèque"
    first = serve(processes, library)
    assert first.base_url.startswith("http://127.0.0.1:")
    made = []
    for i, folder in enumerate(["", "brand", "clients/acme"]):
        content = image_bytes("PNG", (30 + i, 20), (i * 70, 10, 10))
        reply = upload(first.base_url, content, f"ñ-{i}.png", folder=folder, alt_text=f"alt {i}")
        assert reply.status_code == 201
        made.append((reply.json(), content))
    deleted = made.pop()[0]
    assert (
        requests.delete(
            f"{first.base_url}/v3/images/{deleted['id']}", headers=AUTH, timeout=30
        ).status_code
        == 204
    )
    assert first.stop() == 0
    assert "Stopped." in first.text()

    second = serve(processes, library)
    listing = requests.get(f"{second.base_url}/v3/images", headers=AUTH, timeout=30).json()
    assert {r["id"] for r in listing["result"]} == {m["id"] for m, _ in made}
    for record, content in made:
        again = requests.get(f"{second.base_url}/v3/images/{record['id']}", headers=AUTH).json()
        assert {k: v for k, v in again.items() if "url" not in k} == {
            k: v for k, v in record.items() if "url" not in k
        }
        assert requests.get(f"{second.base_url}/i/{record['id']}", timeout=30).content == content
    assert requests.get(f"{second.base_url}/i/{deleted['id']}", timeout=30).status_code == 410
    assert second.stop() == 0


def test_token_from_the_library_when_no_environment(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    token = run_cli("token", "--library", str(library))
    assert token.returncode == 0
    value = token.stdout.strip()
    assert len(value) >= 32
    token_file = library / ".imageshelf" / "api-token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert run_cli("token", "--library", str(library)).stdout.strip() == value

    proc = ServeProcess(library, "--port", "0", env={"IMAGESHELF_API_TOKEN": ""}).start()
    try:
        assert value not in proc.text()  # says where the token is, never prints it
        assert "imageshelf token" in proc.text()
        # ... and that command works while the server holds the library.
        while_serving = run_cli("token", "--library", str(library))
        assert (while_serving.returncode, while_serving.stdout.strip()) == (0, value)
        url = f"{proc.base_url}/v3/images"
        good = requests.get(url, headers={"Authorization": f"Bearer {value}"}, timeout=30)
        assert good.status_code == 200, good.text
        assert requests.get(url, headers=AUTH, timeout=30).status_code == 401
    finally:
        assert proc.stop() == 0


def test_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--library", str(tmp_path / "lib"), "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "already in use" in result.stderr and str(port) in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    # Said before the library is opened: no start-up reconcile (minutes on a big library)
    # comes first, and no watcher is started only to be stopped.
    assert not (tmp_path / "lib").exists()


def test_locked_library_is_one_line_and_exit_1(
    processes: list[ServeProcess], tmp_path: Path
) -> None:
    library = tmp_path / "lib"
    serve(processes, library)
    result = run_cli("serve", "--library", str(library), "--port", "0")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "already open" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_public_url_is_refused(tmp_path: Path) -> None:
    result = run_cli("serve", "--library", str(tmp_path / "l"), "--public-url", "shelf.lan")
    assert result.returncode == 1
    assert "--public-url" in result.stderr
    assert "Traceback" not in result.stderr


def test_public_url_is_used_for_links(processes: list[ServeProcess], tmp_path: Path) -> None:
    proc = serve(processes, tmp_path / "lib", "--public-url", "http://192.168.1.5:8765/")
    body = upload(proc.base_url, image_bytes(), "a.jpg").json()
    assert body["url"] == f"http://192.168.1.5:8765/i/{body['id']}"


def test_sigint_stops_cleanly(processes: list[ServeProcess], tmp_path: Path) -> None:
    proc = serve(processes, tmp_path / "lib")
    proc.signal(signal.SIGINT)
    assert proc.wait() == 0
    assert "Traceback" not in proc.text()


def test_sigkill_while_uploading_loses_no_acknowledged_upload(
    processes: list[ServeProcess], tmp_path: Path
) -> None:
    library = tmp_path / "lib"
    proc = serve(processes, library)
    acknowledged: dict[str, bytes] = {}
    guard = threading.Lock()
    enough = threading.Event()
    stop = threading.Event()

    def client(n: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            content = image_bytes("JPEG", (64, 48), (n * 50, i % 256, 99)) + bytes([n, i % 256])
            try:
                reply = upload(proc.base_url, content, f"c{n}-{i}.jpg", folder=f"client{n}")
            except requests.RequestException:
                return  # the server died under us: this upload was never acknowledged
            if reply.status_code == 201:
                with guard:
                    acknowledged[reply.json()["id"]] = content
                    if len(acknowledged) >= 24:
                        enough.set()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        assert enough.wait(120), proc.text()
        proc.kill()  # SIGKILL, in the middle of the uploads still running
    finally:
        stop.set()
        for t in threads:
            t.join(60)

    restarted = serve(processes, library)
    base = restarted.base_url
    for image_id, content in acknowledged.items():
        served = requests.get(f"{base}/i/{image_id}", timeout=30)
        assert served.status_code == 200, image_id
        assert served.content == content
    listed = []
    page = 1
    while True:
        body = requests.get(
            f"{base}/v3/images", headers=AUTH, params={"page": page, "page_size": 100}
        ).json()
        listed += body["result"]
        if page * 100 >= body["total"]:
            break
        page += 1
    assert {r["id"] for r in listed} >= set(acknowledged)
    for record in listed:
        served = requests.get(record["url"], timeout=30)
        assert served.status_code == 200, record
        assert len(served.content) == record["size"]
        assert served.headers["ETag"] == f'"{hashlib.sha256(served.content).hexdigest()}"'
    assert list((library / ".imageshelf" / "tmp").iterdir()) == []
    assert restarted.stop() == 0


def test_memory_stays_bounded_under_sixteen_10_mib_uploads(
    processes: list[ServeProcess], tmp_path: Path
) -> None:
    proc = serve(processes, tmp_path / "lib")
    if proc.peak_rss_bytes() is None:
        pytest.skip("no /proc here to read the peak memory from")
    head = image_bytes("JPEG", (32, 32))

    def big(i: int) -> int:
        content = head + bytes([i]) * (10 * 1024 * 1024 - len(head))
        return upload(proc.base_url, content, f"big{i}.jpg").status_code

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(big, range(16)))
    assert statuses == [201] * 16
    peak = proc.peak_rss_bytes()
    assert peak is not None
    assert peak < 300 * 1024 * 1024, f"peak RSS {peak / 2**20:.0f} MiB"
