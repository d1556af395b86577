"""The wheel, built once per run from the files git tracks (copied out, so the build
leaves nothing in the work tree), and a wheelhouse to install its dependencies from."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

REPO = Path(__file__).resolve().parents[2]


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{cmd}\n{done.stdout}\n{done.stderr}"
    return done  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    tracked = run(["git", "ls-files", "-z"], cwd=REPO, timeout=60).stdout.split("\0")
    for name in filter(None, tracked):
        src, dst = REPO / name, source / name
        if src.is_symlink():  # imageshelf/app and imageshelf/server: links, as git checks out
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(src.readlink())
        elif src.is_file():  # tracked but deleted in the work tree: not part of this build
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    out = tmp_path_factory.mktemp("dist")
    # The build backend (setuptools>=77) comes from the package index, in an isolated
    # environment, as for anyone who builds the project.
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)], timeout=300)
    [built] = out.glob("imageshelf-*.whl")
    return built


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    """Wheels of the runtime dependencies, kept between runs (IMAGESHELF_WHEELHOUSE or the
    user cache), so installing into a clean venv needs the index only the first time."""
    where = os.environ.get("IMAGESHELF_WHEELHOUSE") or platformdirs.user_cache_dir(
        "imageshelf-tests", appauthor=False
    )
    path = Path(where) / "wheelhouse"
    path.mkdir(parents=True, exist_ok=True)
    return path
