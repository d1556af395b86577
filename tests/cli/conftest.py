"""The ``imageshelf`` command run in this process (``main(argv)``), on a real library,
directly or through a real server holding it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from imageshelf.app.cli import main
from imageshelf.app.library import Library
from imageshelf.server import BackgroundServer
from tests.conftest import image_bytes


@dataclass
class Run:
    code: int
    out: str
    err: str


Cli = Callable[..., Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], library_path: Path) -> Cli:
    """``cli("ls", "--json")`` runs ``imageshelf --library LIBRARY ls --json``."""

    def run(*args: str, library: Path | None = library_path) -> Run:
        capsys.readouterr()
        argv = ["--library", str(library), *args] if library is not None else list(args)
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse: --help, --version, usage errors
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    """A folder of files to import: two images at the top, one in a sub-folder, a text file."""
    src = tmp_path / "pictures"
    (src / "trip").mkdir(parents=True)
    (src / "red.png").write_bytes(image_bytes("PNG", color=(200, 0, 0)))
    (src / "blue.jpg").write_bytes(image_bytes("JPEG", color=(0, 0, 200)))
    (src / "trip" / "green.webp").write_bytes(image_bytes("WEBP", color=(0, 200, 0)))
    (src / "notes.txt").write_text("not an image")
    return src


@pytest.fixture
def held(library_path: Path) -> Iterator[BackgroundServer]:
    """The library held by a serving process (this one), as the window or serve holds it."""
    library = Library.open(library_path)
    server = BackgroundServer(library, host="127.0.0.1", port=0, token=library.api_token())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        library.close()
