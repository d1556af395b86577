"""``server/runner.py`` subclasses waitress internals (its task, channel and server
classes) and reads their state to stop cleanly. Those are not a public API, so waitress
is pinned in pyproject.toml to the versions tested here; this trips when the installed
waitress, the pin or one of those internals changes, before a subtle break does."""

from __future__ import annotations

import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from waitress import channel, server, task, wasyncore

# Versions whose internals server/runner.py was checked against (the whole 3.0 series).
TESTED = re.compile(r"3\.0\.\d+")
PIN = "waitress>=3.0,<3.1"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_installed_waitress_is_a_tested_version() -> None:
    assert TESTED.fullmatch(version("waitress")), version("waitress")


def test_pyproject_pins_waitress_to_the_tested_series() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    assert PIN in dependencies, [d for d in dependencies if d.startswith("waitress")]


def test_the_internals_runner_relies_on_are_there() -> None:
    # The hooks it overrides.
    assert callable(task.ErrorTask.execute)
    assert callable(task.WSGITask.build_response_header)
    assert callable(task.WSGITask.set_close_on_finish)
    for name in ("has_body", "version", "request", "response_headers", "content_length"):
        assert name in inspect.getsource(task.Task), name
    assert channel.HTTPChannel.task_class is task.WSGITask
    assert channel.HTTPChannel.error_task_class is task.ErrorTask
    assert server.TcpWSGIServer.channel_class is channel.HTTPChannel
    # The state it reads to know when the server is quiet, and how it stops.
    for name in ("requests", "total_outbufs_len", "request"):
        assert name in inspect.getsource(channel.HTTPChannel), name
    assert "self.queue" in inspect.getsource(task.ThreadedTaskDispatcher)
    params = inspect.signature(task.ThreadedTaskDispatcher.shutdown).parameters
    assert {"cancel_pending", "timeout"} <= set(params)
    assert callable(task.ThreadedTaskDispatcher.set_thread_count)
    source = inspect.getsource(server.BaseWSGIServer)
    assert "self.effective_port" in source and "self.effective_host" in source
    assert "self.trigger" in source
    init = inspect.signature(server.TcpWSGIServer.__init__).parameters
    assert {"dispatcher", "adj", "sockinfo"} <= set(init)
    assert callable(wasyncore.loop) and callable(wasyncore.close_all)
    # What the socket loop (server/event_loop.py) relies on: how dispatchers enter and
    # leave the map, waitress's own event dispatch, and the worker waking the loop
    # through the server (whose pull_trigger says which connection to look at).
    assert callable(wasyncore.readwrite)
    assert "map[self._fileno] = self" in inspect.getsource(wasyncore.dispatcher.add_channel)
    assert "del map[fd]" in inspect.getsource(wasyncore.dispatcher.del_channel)
    assert "self.server.pull_trigger()" in inspect.getsource(channel.HTTPChannel.service)
    assert "self.server.pull_trigger()" in inspect.getsource(channel.HTTPChannel.write_soon)
    assert callable(server.BaseWSGIServer.maintenance)
