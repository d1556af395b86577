"""``imageshelf serve`` as a real child process, for the tests that stop, kill and
restart it."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"Listening on (http://\S+)")
READY = "Press Ctrl+C to stop."


class ServeProcess:
    def __init__(self, library: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.library = library
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        self.base_url = ""

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "imageshelf",
            "serve",
            "--library",
            str(self.library),
            *self.args,
        ]

    def start(self, *, expect_listening: bool = True, timeout: float = 60) -> ServeProcess:
        self.proc = subprocess.Popen(
            self.command(),
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        if expect_listening:
            while True:
                line = self.lines.get(timeout=timeout)
                if line is None:
                    raise AssertionError("serve exited early:\n" + "".join(self.output))
                match = LISTENING.search(line)
                if match:
                    self.base_url = match.group(1)
                if READY in line:  # the last line serve prints on start
                    break
        return self

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with self.proc.stdout:
            for line in self.proc.stdout:
                self.output.append(line)
                self.lines.put(line)
        self.lines.put(None)

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 60) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout=timeout)
        self._pump_thread.join(timeout)  # all output read, the pipe closed
        return code

    def text(self) -> str:
        return "".join(self.output)

    def stop(self) -> int:
        """SIGTERM and wait: the clean way."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.signal(signal.SIGTERM)
        return self.wait()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.wait(30)

    def peak_rss_bytes(self) -> int | None:
        """The process's peak resident memory (Linux ``VmHWM``), else ``None``."""
        assert self.proc is not None
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return None
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(match.group(1)) * 1024 if match else None
