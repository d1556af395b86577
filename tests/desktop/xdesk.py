"""The real-input test layer's tools: an X server (Xvfb) of its own, input through it
(xdotool: clicks, keys, drags, all arriving the way a person's do), the real app in a
child process, and second programs to drag from and drop on.

Where the app's parts are comes from its probe file (app/ui/probe.py); what a gesture
did is checked in the library (SQLite, read only) or on disk. Every wait polls a
condition against a deadline."""

from __future__ import annotations

import json
import os
import select
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
SCREEN = (1280, 800)
T = TypeVar("T")


class XServer:
    """Xvfb on a display number it picks itself (-displayfd), so runs never collide."""

    def __init__(self, size: tuple[int, int] = SCREEN) -> None:
        read_end, write_end = os.pipe()
        self.proc = subprocess.Popen(
            [
                "Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{size[0]}x{size[1]}x24",
                "-nolisten", "tcp", "-noreset",
            ],
            pass_fds=(write_end,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        os.close(write_end)
        number = b""
        deadline = time.monotonic() + 20
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(read_end, 16) if ready else b""
            if not chunk:
                self.proc.kill()
                raise RuntimeError(f"Xvfb did not start: {self.proc.stderr.read()!r}")  # type: ignore[union-attr]
            number += chunk
        os.close(read_end)
        self.display = f":{number.decode().strip()}"
        self.pointer = (-1, -1)

    def env(self, home: Path) -> dict[str, str]:
        """The environment of a child on this display: xcb (the fast tests' offscreen
        would never reach the X server), our code first, settings in a home of its own."""
        env = dict(os.environ)
        for name in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XAUTHORITY", "SESSION_MANAGER"):
            env.pop(name, None)
        runtime = home / "run"
        runtime.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)
        env.update(
            DISPLAY=self.display,
            QT_QPA_PLATFORM="xcb",
            PYTHONPATH=str(ROOT),
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / "config"),
            XDG_DATA_HOME=str(home / "data"),
            XDG_CACHE_HOME=str(home / "cache"),
            XDG_RUNTIME_DIR=str(runtime),
            QT_ACCESSIBILITY="0",
            NO_AT_BRIDGE="1",
        )
        return env

    def run(self, *args: str) -> str:
        out = subprocess.run(
            list(args), env={**os.environ, "DISPLAY": self.display}, check=True,
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        return out.stdout

    # --- input, through the X server -----------------------------------------------------

    def xdotool(self, *args: object) -> str:
        return self.run("xdotool", *(str(a) for a in args))

    def move(self, x: int, y: int) -> None:
        # --sync waits for the pointer to arrive, and for a long time when it is already
        # there: only we move it, so skip a move to where it is.
        if (x, y) != self.pointer:
            self.xdotool("mousemove", "--sync", x, y)
            self.pointer = (x, y)

    def click(self, x: int, y: int, button: int = 1, repeat: int = 1) -> None:
        self.move(x, y)
        self.xdotool("click", "--repeat", repeat, "--delay", 80, button)

    def key(self, *chords: str) -> None:
        """``key("ctrl+f")``, ``key("Return")``: key chords as a keyboard sends them."""
        self.xdotool("key", "--delay", 60, *chords)

    def type(self, text: str) -> None:
        self.xdotool("type", "--delay", 30, text)

    def drag(
        self,
        start: tuple[int, int],
        end: tuple[int, int],
        over: Callable[[], object] | None = None,
        steps: int = 24,
    ) -> None:
        """A drag as a hand makes it: press, move in steps (XDND needs motion to find the
        target), keep moving a pixel to and fro over the target until ``over()`` says the
        target has taken the drag (e.g. it is highlighted), release."""
        self.move(*start)
        self.xdotool("mousedown", 1)
        try:
            for i in range(1, steps + 1):
                x = start[0] + (end[0] - start[0]) * i // steps
                y = start[1] + (end[1] - start[1]) * i // steps
                self.move(x, y)
                time.sleep(0.02)  # the pace of a hand, not a wait for a result
            wiggle = iter(range(10_000))

            def taken() -> bool:
                self.move(end[0] + (next(wiggle) % 3) - 1, end[1])
                return over is None or bool(over())

            wait_for(taken, "the drop target to take the drag", timeout=10)
            self.move(*end)
        finally:
            self.xdotool("mouseup", 1)

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.run("import", "-window", "root", str(path))
        return path

    def window_ids(self, title: str) -> list[str]:
        try:
            return self.xdotool("search", "--onlyvisible", "--name", title).split()
        except subprocess.CalledProcessError:
            return []  # xdotool exits 1 when nothing matches

    def windows_of(self, pid: int) -> list[str]:
        """The visible windows of a process (by _NET_WM_PID). Searching by name finds
        WM_NAME, which holds the window's own title only (the library's name); the
        "— Imageshelf" the desktop shows is in _NET_WM_NAME."""
        try:
            return self.xdotool("search", "--onlyvisible", "--pid", pid).split()
        except subprocess.CalledProcessError:
            return []

    def geometry(self, window_id: str) -> tuple[int, int, int, int]:
        values = dict(
            line.split("=", 1)
            for line in self.xdotool("getwindowgeometry", "--shell", window_id).split()
        )
        return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def center(rect: list[int] | tuple[int, ...]) -> tuple[int, int]:
    x, y, w, h = rect
    return x + w // 2, y + h // 2


class AppProcess:
    """``python -m imageshelf --library DIR`` on the test display, with the probe switched on."""

    def __init__(self, xserver: XServer, library: Path, home: Path, size: tuple[int, int]) -> None:
        self.x = xserver
        self.library = library
        self.probe_path = home / "probe.json"
        self.log_path = home / "app.log"
        self.home = home
        env = xserver.env(home)
        env["IMAGESHELF_PROBE"] = str(self.probe_path)
        # The first run's window size, as a person's settings would hold it.
        config = home / "config" / "Imageshelf"
        config.mkdir(parents=True, exist_ok=True)
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "imageshelf", "--library", str(library),
             "--port", str(free_port())],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(lambda: self.state().get("widgets", {}).get("window"), "the window", 60)
        window = wait_for(lambda: self.x.windows_of(self.proc.pid), "its X window")[0]
        self.window_id = window
        self.x.xdotool("windowsize", "--sync", window, *size)
        self.x.xdotool("windowmove", "--sync", window, 0, 0)
        self.wait_state(lambda s: s["widgets"]["window"][2:] == list(size), f"the window at {size}")
        self.focus()

    def focus(self) -> None:
        """No window manager runs: give the window the keyboard focus the X way."""
        self.x.xdotool("windowfocus", "--sync", self.window_id)
        self.wait_state(lambda s: s["active"] is not None, "the window active")

    def state(self) -> dict[str, Any]:
        if self.proc.poll() is not None:
            raise AssertionError(f"the app exited ({self.proc.returncode}): {self.output()}")
        return json.loads(self.probe_path.read_text(encoding="utf-8"))

    def wait_state(
        self, condition: Callable[[dict[str, Any]], Any], what: str, timeout: float = 15
    ) -> dict[str, Any]:
        found: list[dict[str, Any]] = []

        def check() -> bool:
            s = self.state()
            found.append(s)
            return bool(condition(s))

        try:
            wait_for(check, what, timeout)
        except AssertionError as exc:
            last = {k: v for k, v in (found[-1] if found else {}).items() if k != "places"}
            raise AssertionError(f"{exc}\nthe app's last state: {last}") from None
        return found[-1]

    def drag(
        self, start: tuple[int, int], end: tuple[int, int], over: Callable[[], object] | None = None
    ) -> None:
        """Thumbnails dragged from the grid; returns once the app has ended the drag (a
        click straight after would otherwise land in the drag's last moments)."""
        self.x.drag(start, end, over=over)
        self.wait_state(lambda s: not s["dragging"], "the drag ended")

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """Reads the library's database while the app holds it (WAL: readers never block
        the writer)."""
        db = self.library / ".imageshelf" / "library.db"
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(sql, params).fetchall()

    def images(self) -> dict[str, tuple[str, str | None]]:
        """original file name -> (folder, alt text)."""
        return {
            name: (folder, alt)
            for name, folder, alt in self.rows(
                "SELECT original_filename, folder, alt_text FROM images"
            )
        }

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # the app closes its window properly on TERM
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


class Helper:
    """A second program (drag source, drop target) on the test display."""

    def __init__(self, xserver: XServer, home: Path, module: str, *args: object) -> None:
        self.title = f"{module}-{id(self)}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"tests.desktop.{module}", self.title, *map(str, args)],
            cwd=ROOT, env=xserver.env(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if line.strip() != "ready":
            raise AssertionError(f"{module} did not start: {line}{self.proc.stdout.read()}")  # type: ignore[union-attr]
        window = wait_for(lambda: xserver.window_ids(self.title), f"the {module} window")[0]
        wait_for(lambda: xserver.geometry(window)[2] > 0, f"the {module} window mapped")
        self.rect = xserver.geometry(window)

    def close(self) -> str:
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=10)
        return out
