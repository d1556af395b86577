"""The wheel as a user gets it: what is inside, check-wheel-contents, and (the slow one,
~20 s) a clean virtual environment WITHOUT the gui extra that serves the API."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from imageshelf.app.library.migrations import versions
from imageshelf.app.library.migrations.versions import HEAD
from tests.conftest import image_bytes
from tests.packaging.conftest import run

VERSIONS = Path(versions.__file__).parent


def names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as z:
        return set(z.namelist())


def test_wheel_holds_the_resources_migrations_and_license(wheel: Path) -> None:
    inside = names(wheel)

    def one(pattern: str) -> str:
        found = [n for n in inside if re.fullmatch(pattern, n)]
        assert len(found) == 1, (pattern, sorted(inside))
        return found[0]

    one(r"imageshelf/server/resources/openapi\.json")
    for suffix in (r"\.svg", r"\.png", r"\.desktop", r"\.metainfo\.xml"):
        one(rf"imageshelf/app/resources/io\.github\.imageshelf\.imageshelf{suffix}")
    one(r"[a-z_/]+/migrations/env\.py")
    one(r"[a-z_/]+/migrations/script\.py\.mako")
    # Every revision the source has (numbers may skip: versions/__init__.py says why),
    # the head among them.
    revisions = sorted(p.name for p in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert any(name.startswith(f"{HEAD}_") for name in revisions), revisions
    for name in revisions:
        one(rf"[a-z_/]+/migrations/versions/{re.escape(name)}")
    one(r"imageshelf-[^/]+\.dist-info/licenses/LICENSE")
    # One import name in site-packages: nothing but imageshelf/ and its dist-info.
    assert {n.split("/")[0] for n in inside} == {"imageshelf", meta_dir(inside)}


def meta_dir(inside: set[str]) -> str:
    return next(n.split("/")[0] for n in inside if n.endswith(".dist-info/METADATA"))


def test_wheel_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        meta_name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(z.read(meta_name).decode())
    assert meta["License-Expression"] == "MIT"
    requires = meta.get_all("Requires-Dist") or []
    assert any(r.startswith("werkzeug") or r.startswith("Werkzeug") for r in requires)
    qt = [r for r in requires if r.lower().startswith("pyside6")]
    assert qt and all('extra == "gui"' in r for r in qt), qt  # Qt only with the gui extra


def test_check_wheel_contents(wheel: Path) -> None:
    tool = shutil.which("check-wheel-contents", path=str(Path(sys.executable).parent))
    assert tool, "check-wheel-contents is in the test extra"
    # W004: see [tool.check-wheel-contents] in pyproject.toml (a command-line --ignore
    # replaces that list, so it is repeated).
    done = subprocess.run(
        [tool, "--ignore", "W004", str(wheel)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.timeout(600)
def test_clean_venv_without_qt_serves_the_api(
    wheel: Path, wheelhouse: Path, tmp_path: Path
) -> None:
    """pip install of the wheel alone (no gui extra) into a fresh venv: no Qt arrives,
    --version answers, the window says how to get Qt, serve answers with the document
    and takes an upload."""
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    offline = subprocess.run(
        [*pip, "install", "-q", "--no-index", "--find-links", str(wheelhouse), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if offline.returncode != 0:  # first run on this machine: fill the wheelhouse
        run([*pip, "download", "-q", "--dest", str(wheelhouse), str(wheel)], timeout=600)
        for own in wheelhouse.glob("imageshelf-*.whl"):  # dependencies only: ours is built
            own.unlink()
        run(
            [*pip, "install", "-q", "--no-index", "--find-links", str(wheelhouse), str(wheel)],
            timeout=300,
        )
    listed = run([*pip, "list", "--format", "json"], timeout=60).stdout
    installed = {p["name"].lower() for p in json.loads(listed)}
    assert "imageshelf" in installed and "werkzeug" in installed
    assert not {n for n in installed if n.startswith(("pyside6", "shiboken6"))}

    exe = venv / "bin" / "imageshelf"
    version = run([str(exe), "--version"], timeout=60).stdout
    assert version.strip() == f"imageshelf {wheel.name.split('-')[1]}"
    window = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert window.returncode == 1 and "pipx install 'imageshelf[gui]'" in window.stderr

    library = tmp_path / "lib"
    proc = subprocess.Popen(
        [str(exe), "--library", str(library), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,  # nowhere near the source tree
    )
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "Press Ctrl+C" in line:
                break
        url = re.search(r"Listening on (http://\S+)", "".join(seen))
        assert url, "".join(seen)
        base = url.group(1)
        with urllib.request.urlopen(f"{base}/v3/openapi.json", timeout=30) as reply:
            doc = json.loads(reply.read())
        assert doc["openapi"].startswith("3.1")

        picture = tmp_path / "p.png"
        picture.write_bytes(image_bytes("PNG"))
        imported = run([str(exe), "--library", str(library), "import", str(picture)], timeout=60)
        assert "running Imageshelf" in imported.stderr  # through the serving process
        listed_json = run([str(exe), "--library", str(library), "ls", "--json"], timeout=60)
        [image] = json.loads(listed_json.stdout)
        with urllib.request.urlopen(f"{base}/i/{image['id']}", timeout=30) as reply:
            assert reply.read() == picture.read_bytes()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
