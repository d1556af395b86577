"""The command itself: --version, global options honoured by every sub-command, real
defaults in --help, serve and the CLI without Qt, install-desktop, the log."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from imageshelf.app.cli import version
from imageshelf.app.cli.common import OK, USAGE
from imageshelf.app.resources import APP_ID, DESKTOP_ENTRY, ICON_PNG, ICON_SVG, METAINFO, resource
from tests.cli.conftest import Cli

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "imageshelf"  # the import name `python -m` runs

# Run first in a child: any import of Qt fails, as on an install without the gui extra.
BLOCK_QT = """
import sys
class _NoQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
        return None
sys.meta_path.insert(0, _NoQt())
"""


def child(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", BLOCK_QT + code, *args]


def test_version(cli: Cli) -> None:
    run = cli("--version", library=None)
    assert run.code == OK and run.out.strip() == f"imageshelf {version()}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*|unknown \(not installed\)", version())


def test_help_shows_real_defaults(cli: Cli) -> None:
    run = cli("--help", library=None)
    assert run.code == OK
    assert "default: 8765" in run.out and "default: 127.0.0.1" in run.out
    assert re.search(r"--library DIR\s+the library folder \(default: \S+Imageshelf\)", run.out)
    assert "exit codes:" in run.out
    assert cli("ls", "--bogus", library=None).code == USAGE


def test_global_library_before_or_after_the_sub_command(tmp_path: Path, library_path: Path) -> None:
    """`imageshelf --library X token` used the sub-command's default and created
    ~/Pictures/Imageshelf; both spellings now use X, and nothing else is created."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    tokens = []
    for argv in (
        ["--library", str(library_path), "token"],
        ["token", "--library", str(library_path)],
    ):
        done = subprocess.run(
            [sys.executable, "-m", PACKAGE, *argv],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        tokens.append(done.stdout.strip())
    assert tokens[0] == tokens[1] == (library_path / ".imageshelf" / "api-token").read_text()
    assert not (home / "Pictures").exists()


def test_serve_runs_with_qt_blocked(tmp_path: Path) -> None:
    code = (
        "import runpy, sys; sys.argv = ['imageshelf'] + sys.argv[1:]; "
        f"runpy.run_module({PACKAGE!r}, run_name='__main__')"
    )
    proc = subprocess.Popen(
        child(code, "serve", "--library", str(tmp_path / "lib"), "--port", "0"),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Press Ctrl+C" in line:
                break
        text = "".join(lines)
        url = re.search(r"Listening on (http://\S+)", text)
        assert url, text
        with urllib.request.urlopen(f"{url.group(1)}/v3/openapi.json", timeout=30) as reply:
            assert reply.status == 200 and b'"openapi"' in reply.read(40)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def test_cli_commands_and_window_without_qt(tmp_path: Path) -> None:
    """ls/import work without Qt; the window says how to get it, exit 1."""
    picture = tmp_path / "p.png"
    from tests.conftest import image_bytes

    picture.write_bytes(image_bytes("PNG"))
    library = str(tmp_path / "lib")
    code = (
        "import sys; from imageshelf.app.cli import main; "
        "rc = main(sys.argv[1:]); "
        "assert 'PySide6' not in sys.modules, 'Qt was imported'; sys.exit(rc)"
    )
    for argv in (["import", str(picture)], ["ls"], ["token"]):
        done = subprocess.run(
            child(code, "--library", library, *argv),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    window = subprocess.run(
        child("import sys; from imageshelf.app.cli import main; sys.exit(main([]))"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert window.returncode == 1
    assert "pipx install 'imageshelf[gui]'" in window.stderr
    assert "Traceback" not in window.stderr


def test_install_desktop_and_uninstall(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    run = cli("install-desktop", library=None)
    assert run.code == OK, run.err
    entry = data / "applications" / DESKTOP_ENTRY
    icons = [
        data / "icons/hicolor/scalable/apps" / ICON_SVG,
        data / "icons/hicolor/256x256/apps" / ICON_PNG,
    ]
    metainfo = data / "metainfo" / METAINFO
    for path in (entry, *icons, metainfo):
        assert path.is_file(), path
    assert icons[0].read_bytes() == resource(ICON_SVG).read_bytes()
    text = entry.read_text()
    assert f"Icon={APP_ID}\n" in text
    # Exec names a program that exists (this test's Python or the installed script).
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    program = exec_line.removeprefix("Exec=").split(" ")[0].strip('"')
    assert Path(program).is_file(), exec_line
    validator = shutil.which("desktop-file-validate")
    assert validator, "scripts/bootstrap.sh installs desktop-file-utils"
    checked = subprocess.run([validator, str(entry)], capture_output=True, text=True)
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout

    gone = cli("install-desktop", "--uninstall", library=None)
    assert gone.code == OK
    for path in (entry, *icons, metainfo):
        assert not path.exists()


def test_serve_access_log_only_when_asked(tmp_path: Path, test_log_dir: Path) -> None:
    from tests.server.serve_process import ServeProcess

    log = tmp_path / "logs"
    for flag, expect in (((), False), (("--access-log",), True)):
        proc = ServeProcess(
            tmp_path / "lib", "--port", "0", *flag, env={"IMAGESHELF_LOG_DIR": str(log)}
        ).start()
        try:
            marker = f"/v3/openapi.json?probe={int(expect)}"
            with urllib.request.urlopen(proc.base_url + marker, timeout=30) as reply:
                assert reply.status == 200
        finally:
            assert proc.stop() == 0
        written = (log / "imageshelf.log").read_text()
        assert ("GET " + marker + " 200" in written) is expect, written
        assert ("GET " + marker + " 200" in proc.text()) is expect
    assert "serving" in (log / "imageshelf.log").read_text()
