"""The desktop entry and AppStream metadata point at things that exist."""

from __future__ import annotations

import configparser
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_desktop_entry_runs_the_installed_command_with_our_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(ROOT / "packaging" / "imageshelf.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"].split()[0] in scripts
    assert (ROOT / "resources" / f"{desktop['Icon']}.svg").exists()
    assert (ROOT / "resources" / f"{desktop['Icon']}.png").exists()
    assert desktop["Categories"].endswith(";")


def test_appstream_metadata_names_the_desktop_entry():
    root = ET.parse(ROOT / "packaging" / "imageshelf.metainfo.xml").getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("launchable") == "imageshelf.desktop"
    assert (ROOT / "packaging" / root.findtext("launchable")).exists()
    assert root.findtext("summary")
