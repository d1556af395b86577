"""``imageshelf install-desktop [--uninstall]``: the menu entry, icon and AppStream
metadata for this user (under ``$XDG_DATA_HOME``, ``~/.local/share`` by default), pointing
at the command that runs now, so a pipx or venv install needs nothing on PATH."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from ..library.files import write_atomic
from ..resources import DESKTOP_ENTRY, ICON_PNG, ICON_SVG, METAINFO, resource
from .common import OK


def data_home() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    # The spec: a relative value is invalid and is ignored.
    return Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"


def installed_files(home: Path) -> dict[str, Path]:
    return {
        DESKTOP_ENTRY: home / "applications" / DESKTOP_ENTRY,
        ICON_SVG: home / "icons" / "hicolor" / "scalable" / "apps" / ICON_SVG,
        ICON_PNG: home / "icons" / "hicolor" / "256x256" / "apps" / ICON_PNG,
        METAINFO: home / "metainfo" / METAINFO,
    }


def launch_command() -> list[str]:
    """How to start the window again: this very executable (the ``imageshelf`` script of
    this install, or a bundle's), else this Python running this package."""
    argv0 = Path(sys.argv[0])
    if argv0.name.startswith("imageshelf") and argv0.exists():
        return [str(argv0.resolve())]
    package = (__package__ or "imageshelf.app").split(".")[0]
    return [sys.executable, "-m", package]


def desktop_entry_text(command: list[str]) -> str:
    """The shipped entry with Exec/TryExec naming ``command`` (quoted as the Desktop
    Entry spec wants: double quotes, and ``%`` doubled)."""

    def quote(arg: str) -> str:
        if not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`%"):
            return arg
        escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
        return '"' + escaped.replace("$", "\\$").replace("%", "%%") + '"'

    lines = []
    for line in resource(DESKTOP_ENTRY).read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + " ".join(quote(a) for a in command)
        elif line.startswith("TryExec="):
            line = "TryExec=" + command[0]
        lines.append(line)
    return "\n".join(lines) + "\n"


def install_desktop_command(args: argparse.Namespace) -> int:
    home = data_home()
    targets = installed_files(home)
    if args.uninstall:
        for path in targets.values():
            path.unlink(missing_ok=True)
            print(f"removed {path}")
    else:
        for name, path in targets.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            if name == DESKTOP_ENTRY:
                data = desktop_entry_text(launch_command()).encode()
            else:
                data = resource(name).read_bytes()
            write_atomic(path, data)
            os.chmod(path, 0o644)
            print(f"installed {path}")
        print(f"Menu entry runs: {shlex.join(launch_command())}")
    _refresh_caches(home)
    return OK


def _refresh_caches(home: Path) -> None:
    """Desktops that cache menus and icons notice sooner; both tools are optional."""
    for tool, target in (
        ("update-desktop-database", home / "applications"),
        ("gtk-update-icon-cache", home / "icons" / "hicolor"),
    ):
        exe = shutil.which(tool)
        if exe and target.is_dir():
            subprocess.run(
                [exe, "-q", str(target)]
                if tool == "update-desktop-database"
                else [exe, "-q", "-t", "-f", str(target)],
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=30,
            )
