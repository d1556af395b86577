"""``imageshelf serve`` killed with SIGKILL in the middle of parallel uploads, moves, edits
and deletes, then started again: everything it acknowledged is there, byte for byte;
nothing half-done is visible; folder and database agree. Also: a full disk during an upload
is a clear error that leaves nothing behind, and a second server on the same library is
refused."""

from __future__ import annotations

import hashlib
import io
import os
import random
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import requests
from PIL import Image

from tests.conftest import image_bytes
from tests.mounts import tmpfs
from tests.server.serve_process import REPO, ServeProcess
from tests.waiting import wait_for

TOKEN = "kill-recovery-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FOLDERS = [None, "alpha", "beta/gamma", "Déjà vu"]
TIMEOUT = 30


def serve(processes: list[ServeProcess], library: Path) -> ServeProcess:
    proc = ServeProcess(library, "--port", "0", env={"IMAGESHELF_API_TOKEN": TOKEN})
    processes.append(proc)
    return proc.start()


@dataclass(frozen=True)
class State:
    folder: str | None
    alt_text: str | None
    deleted: bool = False


@dataclass
class Expected:
    """What the client knows of one image: the last acknowledged state, and the state a
    request cut off by the kill would have made (either may be what survived)."""

    content: bytes
    acked: State
    maybe: list[State] = field(default_factory=list)


class Client(threading.Thread):
    """Uploads, moves, re-describes and deletes its own images until told to stop."""

    def __init__(self, n: int, base: str, stop: threading.Event) -> None:
        super().__init__(name=f"client-{n}", daemon=True)
        self.n, self.base, self.stop = n, base, stop
        self.rng = random.Random(n)
        self.images: dict[str, Expected] = {}
        self.acknowledged = 0
        self.kinds: dict[str, int] = {"upload": 0, "move": 0, "edit": 0, "delete": 0}

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                self.step(i)
            except requests.RequestException:
                return  # the server died under us

    def step(self, i: int) -> None:
        alive = [k for k, e in self.images.items() if not e.acked.deleted and not e.maybe]
        roll = self.rng.random()
        if not alive or roll < 0.4:
            self.upload(i)
        elif roll < 0.7:
            self.patch(self.rng.choice(alive), move=True)
        elif roll < 0.85:
            self.patch(self.rng.choice(alive), move=False)
        else:
            self.delete(self.rng.choice(alive))

    def upload(self, i: int) -> None:
        content = image_bytes("JPEG", (48, 32), (self.n * 60, i % 256, 7)) + bytes(
            [self.n, i % 251]
        )
        folder = self.rng.choice(FOLDERS)
        form = {"alt_text": f"client {self.n} image {i}"}
        if folder:
            form["folder"] = folder
        reply = requests.post(
            f"{self.base}/v3/images",
            headers=AUTH,
            files={"file": (f"c{self.n}-{i}.jpg", content)},
            data=form,
            timeout=TIMEOUT,
        )
        assert reply.status_code == 201, reply.text
        body = reply.json()
        self.images[body["id"]] = Expected(content, State(body["folder"], body["alt_text"]))
        self.done("upload")

    def patch(self, image_id: str, *, move: bool) -> None:
        known = self.images[image_id]
        change: dict[str, str | None]
        if move:
            target = self.rng.choice([f for f in FOLDERS if f != known.acked.folder])
            change = {"folder": target}
            after = State(target, known.acked.alt_text)
        else:
            text = f"edited {self.rng.randrange(10**6)} ✓"
            change = {"alt_text": text}
            after = State(known.acked.folder, text)
        known.maybe = [after]
        reply = requests.patch(
            f"{self.base}/v3/images/{image_id}", headers=AUTH, json=change, timeout=TIMEOUT
        )
        assert reply.status_code == 200, reply.text
        assert (reply.json()["folder"], reply.json()["alt_text"]) == (after.folder, after.alt_text)
        known.acked, known.maybe = after, []
        self.done("move" if move else "edit")

    def delete(self, image_id: str) -> None:
        known = self.images[image_id]
        after = State(known.acked.folder, known.acked.alt_text, deleted=True)
        known.maybe = [after]
        reply = requests.delete(f"{self.base}/v3/images/{image_id}", headers=AUTH, timeout=TIMEOUT)
        assert reply.status_code == 204, reply.text
        known.acked, known.maybe = after, []
        self.done("delete")

    def done(self, kind: str) -> None:
        self.kinds[kind] += 1
        self.acknowledged += 1


def all_listed(base: str) -> list[dict]:
    listed: list[dict] = []
    page = 1
    while True:
        body = requests.get(
            f"{base}/v3/images",
            headers=AUTH,
            params={"page": page, "page_size": 100},
            timeout=TIMEOUT,
        ).json()
        listed += body["result"]
        if page * 100 >= body["total"]:
            return listed
        page += 1


def image_files_on_disk(library: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(library):
        rel = Path(dirpath).relative_to(library)
        if rel == Path("."):
            dirnames[:] = [d for d in dirnames if d != ".imageshelf"]
        for name in filenames:
            found[(rel / name).as_posix().removeprefix("./")] = (Path(dirpath) / name).read_bytes()
    return found


def test_sigkill_amid_uploads_moves_and_deletes_then_restart(
    processes: list[ServeProcess], tmp_path: Path
) -> None:
    library = tmp_path / "Bibliothek"
    proc = serve(processes, library)
    stop = threading.Event()
    clients = [Client(n, proc.base_url, stop) for n in range(4)]
    for c in clients:
        c.start()
    try:
        deadline = threading.Event()
        for _ in range(1200):  # bounded: at most 120 s
            kinds = {k: sum(c.kinds[k] for c in clients) for k in clients[0].kinds}
            if kinds["upload"] >= 30 and kinds["move"] >= 12 and kinds["delete"] >= 4:
                break
            if not any(c.is_alive() for c in clients):
                break
            deadline.wait(0.1)
        assert all(c.is_alive() for c in clients), proc.text()
        proc.kill()  # SIGKILL while every client has a request going
    finally:
        stop.set()
        for c in clients:
            c.join(TIMEOUT)
    kinds = {k: sum(c.kinds[k] for c in clients) for k in clients[0].kinds}
    assert kinds["move"] >= 12 and kinds["delete"] >= 4, kinds

    restarted = serve(processes, library)
    base = restarted.base_url

    # Every acknowledged image is there with its bytes, folder and alt text (or, for the
    # one request the kill cut off, the state that request would have made).
    for client in clients:
        for image_id, known in client.images.items():
            allowed = [known.acked, *known.maybe]
            reply = requests.get(f"{base}/v3/images/{image_id}", headers=AUTH, timeout=TIMEOUT)
            if reply.status_code == 410:
                assert any(s.deleted for s in allowed), (image_id, allowed)
                assert requests.get(f"{base}/i/{image_id}", timeout=TIMEOUT).status_code == 410
                continue
            assert reply.status_code == 200, (image_id, reply.text)
            body = reply.json()
            got = State(body["folder"], body["alt_text"])
            assert got in [State(s.folder, s.alt_text) for s in allowed if not s.deleted], (
                image_id,
                got,
                allowed,
            )
            served = requests.get(f"{base}/i/{image_id}", timeout=TIMEOUT)
            assert served.status_code == 200
            assert served.content == known.content

    # No row without its file, no image file without its row, folders as on disk.
    listed = all_listed(base)
    on_disk = image_files_on_disk(library)
    by_path = {
        (f"{r['folder']}/{r['filename']}" if r["folder"] else r["filename"]): r for r in listed
    }
    assert set(by_path) == set(on_disk)
    for relpath, record in by_path.items():
        assert len(on_disk[relpath]) == record["size"]
        served = requests.get(record["url"], timeout=TIMEOUT)
        assert served.status_code == 200
        assert served.content == on_disk[relpath]
        assert served.headers["ETag"] == f'"{hashlib.sha256(served.content).hexdigest()}"'
    folders = requests.get(f"{base}/v3/images/folders", headers=AUTH, timeout=TIMEOUT).json()
    holding_images = sorted({p.rsplit("/", 1)[0] for p in on_disk if "/" in p})
    assert folders["folders"] == holding_images
    assert list((library / ".imageshelf" / "tmp").iterdir()) == []
    assert restarted.stop() == 0


def test_a_second_server_on_the_same_library_is_refused(
    processes: list[ServeProcess], tmp_path: Path
) -> None:
    library = tmp_path / "lib"
    serve(processes, library)
    second = subprocess.run(
        [sys.executable, "-m", "imageshelf", "serve", "--library", str(library), "--port", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert "already open in another Imageshelf process" in second.stderr
    assert "Traceback" not in second.stderr + second.stdout


def test_a_full_disk_during_an_upload_is_a_clear_error_and_leaves_nothing(
    processes: list[ServeProcess], tmp_path: Path
) -> None:
    rng = random.Random(3)
    big = io.BytesIO()
    Image.frombytes("RGB", (900, 900), rng.randbytes(900 * 900 * 3)).save(big, "PNG")
    with tmpfs(tmp_path / "small", "2m") as disk:
        library = disk / "lib"
        proc = serve(processes, library)
        try:
            reply = requests.post(
                f"{proc.base_url}/v3/images",
                headers=AUTH,
                files={"file": ("big.png", big.getvalue())},
                data={"folder": "new folder"},
                timeout=TIMEOUT,
            )
            assert reply.status_code == 507
            error = reply.json()["error"]
            assert error["code"] == "storage_error"
            assert "disk is full" in error["message"]
            assert list((library / ".imageshelf" / "tmp").iterdir()) == []
            assert image_files_on_disk(library) == {}
            assert not (library / "new folder").exists()
            listing = requests.get(f"{proc.base_url}/v3/images", headers=AUTH, timeout=TIMEOUT)
            assert listing.json()["total"] == 0
            # The server goes on: a small image still fits.
            small = requests.post(
                f"{proc.base_url}/v3/images",
                headers=AUTH,
                files={"file": ("small.jpg", image_bytes())},
                timeout=TIMEOUT,
            )
            assert small.status_code == 201
        finally:
            assert proc.stop() == 0


def test_serve_follows_outside_changes_before_and_after_a_kill(
    processes: list[ServeProcess], tmp_path: Path
) -> None:
    library = tmp_path / "lib"
    proc = serve(processes, library)
    base = proc.base_url

    def listed_by_name() -> dict[str, dict]:
        return {r["filename"]: r for r in all_listed(base)}

    # While serving: a copied-in file appears, a rename keeps its id, a delete is 410.
    (library / "dropped.png").write_bytes(image_bytes("PNG", (20, 10)))
    dropped = wait_for(lambda: listed_by_name().get("dropped.png"), "dropped.png listed")
    assert (dropped["width"], dropped["height"], dropped["alt_text"]) == (20, 10, None)
    (library / "renamed").mkdir()
    os.rename(library / "dropped.png", library / "renamed" / "kept id.png")
    moved = wait_for(
        lambda: listed_by_name().get("kept id.png"), "the renamed folder's file listed"
    )
    assert (moved["id"], moved["folder"]) == (dropped["id"], "renamed")
    os.remove(library / "renamed" / "kept id.png")
    wait_for(
        lambda: requests.get(f"{base}/i/{dropped['id']}", timeout=TIMEOUT).status_code == 410,
        "the removed file's link answering 410",
    )

    # Killed, then changed while down, then started again: the changes are found.
    kept = requests.post(
        f"{base}/v3/images",
        headers=AUTH,
        files={"file": ("kept.jpg", image_bytes())},
        data={"alt_text": "described", "folder": "old"},
        timeout=TIMEOUT,
    ).json()
    proc.kill()
    os.rename(library / "old", library / "new")
    (library / "while down.gif").write_bytes(image_bytes("GIF", (8, 8)))

    again = serve(processes, library)
    base = again.base_url
    got = requests.get(f"{base}/v3/images/{kept['id']}", headers=AUTH, timeout=TIMEOUT).json()
    assert (got["folder"], got["filename"], got["alt_text"]) == ("new", "kept.jpg", "described")
    assert "while down.gif" in listed_by_name()
    assert requests.get(f"{base}/i/{dropped['id']}", timeout=TIMEOUT).status_code == 410
    assert again.stop() == 0
