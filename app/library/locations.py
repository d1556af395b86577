"""Where things live by default."""

from __future__ import annotations

from pathlib import Path

import platformdirs


def default_library_path() -> Path:
    """``~/Pictures/Imageshelf`` (or the platform's pictures folder)."""
    return Path(platformdirs.user_pictures_dir()) / "Imageshelf"
