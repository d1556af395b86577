"""The desktop entry and AppStream metadata point at things that exist, and pass the real
validators (desktop-file-validate, appstreamcli validate --pedantic)."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from imageshelf.app.resources import APP_ID, DESKTOP_ENTRY, ICON_PNG, ICON_SVG, METAINFO, resource

ROOT = Path(__file__).resolve().parents[2]


def _desktop_entry() -> configparser.SectionProxy:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    entry.read_string(resource(DESKTOP_ENTRY).read_text(encoding="utf-8"))
    return entry["Desktop Entry"]


def test_desktop_entry_runs_the_installed_command_with_our_icon() -> None:
    desktop = _desktop_entry()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"].split()[0] in scripts
    assert desktop["Icon"] == APP_ID
    assert resource(ICON_SVG).is_file() and resource(ICON_PNG).is_file()
    assert desktop["Categories"].endswith(";")


def test_appstream_metadata_names_the_desktop_entry() -> None:
    root = ET.fromstring(resource(METAINFO).read_bytes())
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP_ENTRY
    assert root.findtext("summary")
    screenshots = [img.text or "" for img in root.iter("image")]
    for url in screenshots:  # each one is a file of this repository
        assert (ROOT / url.split("/main/", 1)[1]).is_file(), url


def test_appstream_releases_are_the_changelogs() -> None:
    """Every released version in CHANGELOG.md, newest first, with its date, and nothing
    else: the software centre shows what the changelog says."""
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", changelog, re.M)
    root = ET.fromstring(resource(METAINFO).read_bytes())
    releases = [(r.get("version"), r.get("date")) for r in root.iter("release")]
    assert released and releases == released
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert released[0][0] == version


def _validator(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: scripts/bootstrap.sh installs it (make setup)")
    return path


def test_desktop_file_validate_passes(tmp_path: Path) -> None:
    entry = tmp_path / DESKTOP_ENTRY
    entry.write_bytes(resource(DESKTOP_ENTRY).read_bytes())
    done = subprocess.run(
        [_validator("desktop-file-validate"), str(entry)], capture_output=True, text=True
    )
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_appstreamcli_validate_pedantic_passes(tmp_path: Path) -> None:
    metainfo = tmp_path / METAINFO
    metainfo.write_bytes(resource(METAINFO).read_bytes())
    # --no-net: the machine reaches no web server; without it the screenshot URLs would
    # be fetched (and fail) instead of the document being checked.
    done = subprocess.run(
        [_validator("appstreamcli"), "validate", "--pedantic", "--no-net", str(metainfo)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Not even an info or pedantic remark: "Validation was successful." with no counts.
    assert "Validation was successful." in done.stdout and "pedantic:" not in done.stdout, (
        done.stdout
    )
