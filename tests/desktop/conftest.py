"""The real-input layer: the real app under a real X server (Xvfb, one per test run),
driven through the window system. A failing test leaves a screenshot of the whole screen
under test-artifacts/desktop/ (its path is printed with the failure)."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import image_bytes

from .xdesk import ROOT, AppProcess, Helper, XServer

ARTIFACTS = ROOT / "test-artifacts" / "desktop"
NEEDED = ("Xvfb", "xdotool", "import")


@pytest.fixture(scope="session")
def xserver() -> Iterator[XServer]:
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    if missing:
        # Not a skip: these tests are part of `make test`, whose set-up installs them.
        pytest.fail(f"the real-input tests need {missing}: run scripts/bootstrap.sh as root")
    server = XServer()
    yield server
    server.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    server = getattr(item.session, "_imageshelf_xserver", None)
    if report.failed and server is not None:
        name = item.nodeid.replace("/", "_").replace("::", "-")
        path = ARTIFACTS / f"{name}-{report.when}.png"
        try:
            server.screenshot(path)
            report.sections.append(("screenshot", f"the screen at failure: {path}"))
        except Exception as exc:
            report.sections.append(("screenshot", f"no screenshot: {exc}"))
    return report


@pytest.fixture(autouse=True)
def _keep_xserver(request: pytest.FixtureRequest, xserver: XServer) -> None:
    request.session._imageshelf_xserver = xserver  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def desk_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("desk")


@pytest.fixture(scope="module")
def launch(xserver: XServer, desk_home: Path) -> Iterator[Callable[..., AppProcess]]:
    """``launch(size=(1280, 800))``: the app on a fresh library (one launch per module
    where the tests can share it); closed at the end of the module."""
    started: list[AppProcess] = []

    def _launch(
        size: tuple[int, int] = (1280, 800), library: Path | None = None, home: Path | None = None
    ) -> AppProcess:
        """``home``: an earlier launch's, to start again with its settings."""
        n = len(started)
        home = home or desk_home / f"home{n}"
        app = AppProcess(xserver, library or desk_home / f"Library {n} ñ", home, size)
        started.append(app)
        return app

    yield _launch
    for app in started:
        app.close()


@pytest.fixture
def helper(xserver: XServer, desk_home: Path) -> Iterator[Callable[..., Helper]]:
    """``helper("drag_source", x, y, *files)`` / ``helper("drop_target", x, y, out)``."""
    started: list[Helper] = []

    def _helper(module: str, *args: object) -> Helper:
        h = Helper(xserver, desk_home, module, *args)
        started.append(h)
        return h

    yield _helper
    for h in started:
        h.close()


@pytest.fixture(scope="module")
def files(desk_home: Path) -> Callable[..., list[Path]]:
    """``files("a.jpg", "b.png", under="outside/x")``: real images outside the library."""
    counter = iter(range(1, 10_000))

    def _files(*names: str, under: str = "outside") -> list[Path]:
        folder = desk_home / under
        folder.mkdir(parents=True, exist_ok=True)
        made = []
        for name in names:
            n = next(counter)
            fmt = "PNG" if name.endswith(".png") else "JPEG"
            path = folder / name
            path.write_bytes(
                image_bytes(fmt, size=(120 + n, 90), color=(n * 47 % 256, n * 13 % 256, 140))
            )
            made.append(path)
        return made

    return _files


@pytest.fixture(scope="module")
def filled_library(desk_home: Path) -> Callable[..., Path]:
    """``filled_library("name", [("a.jpg", None), ("b.jpg", "trip")], alt={...})``: a
    library made through the core before the app starts, images added in the order given
    (so newest first shows the last one first)."""
    from imageshelf.app.library import Library

    def _make(name: str, images: list[tuple[str, str | None]], size: int = 200) -> Path:
        path = desk_home / name
        library = Library.open(path)
        try:
            for n, (filename, folder) in enumerate(images):
                color = (n * 53 % 256, n * 29 % 256, 180 - n * 7 % 120)
                data = image_bytes("JPEG", size=(size + n % 7 * 10, size * 3 // 4), color=color)
                library.add(io.BytesIO(data), filename, folder=folder)
        finally:
            library.close()
        return path

    return _make
