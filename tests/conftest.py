"""Fixtures shared by every test: a real library in a temp folder, real images."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path

# Before anything can create a QApplication.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PIL import Image

from imageshelf.app.library import Library


def image_bytes(
    fmt: str = "JPEG",
    size: tuple[int, int] = (64, 48),
    color: object = (200, 30, 30),
    mode: str = "RGB",
    frames: int = 1,
    **save: object,
) -> bytes:
    """A real image made with Pillow. ``frames`` > 1 makes an animation (GIF/WebP)."""
    out = io.BytesIO()
    img = Image.new(mode, size, color)  # type: ignore[arg-type]
    if frames > 1:
        others = [Image.new(mode, size, (i * 40 % 256, 90, 160)) for i in range(1, frames)]
        img.save(out, fmt, save_all=True, append_images=others, **save)
    else:
        img.save(out, fmt, **save)
    return out.getvalue()


@pytest.fixture(scope="session", autouse=True)
def no_lan_announcements() -> Iterator[None]:
    """A test server on every interface (0.0.0.0) would announce itself over mDNS on the
    real network: tests (and their child processes) never do; tests/server/
    test_discovery.py announces inside a network namespace of its own."""
    before = os.environ.get("IMAGESHELF_ANNOUNCE")
    os.environ["IMAGESHELF_ANNOUNCE"] = "0"
    yield
    if before is None:
        os.environ.pop("IMAGESHELF_ANNOUNCE", None)
    else:
        os.environ["IMAGESHELF_ANNOUNCE"] = before


@pytest.fixture(scope="session", autouse=True)
def test_log_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tests and their child processes log here, never into the user's log."""
    path = tmp_path_factory.mktemp("log")
    before = os.environ.get("IMAGESHELF_LOG_DIR")
    os.environ["IMAGESHELF_LOG_DIR"] = str(path)
    yield path
    if before is None:
        os.environ.pop("IMAGESHELF_LOG_DIR", None)
    else:
        os.environ["IMAGESHELF_LOG_DIR"] = before


@pytest.fixture
def make_image() -> Callable[..., bytes]:
    return image_bytes


@pytest.fixture
def library_path(tmp_path: Path) -> Path:
    return tmp_path / "Library ñ"


@pytest.fixture
def library(library_path: Path) -> Iterator[Library]:
    lib = Library.open(library_path)
    yield lib
    lib.close()


# The real PostgreSQL server of team-library tests (started only by a test that asks).
from tests.pg_server import pg_database, pg_library, pg_server, pg_template, pg_url  # noqa: E402, F401

# The S3 server (moto's, on loopback) of team-library tests, likewise.
from tests.s3_server import s3_bucket, s3_server  # noqa: E402, F401
