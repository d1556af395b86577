"""Where things live inside a library folder: the one place that names them."""

from __future__ import annotations

from pathlib import Path

META_DIR = ".imageshelf"  # everything that is not an image: database, thumbs, tmp, token
DB_FILE = "library.db"
THUMBS_DIR = "thumbs"
TMP_DIR = "tmp"
LOCK_FILE = "lock"
TOKEN_FILE = "api-token"
TRANSFORMS_DIR = "transforms"  # results of /i transforms: safe to delete, rebuilt on demand


def meta_dir(root: Path) -> Path:
    return root / META_DIR
