"""``storage_from_url``: a storage address as a person writes it (TEAM.md).

- ``s3://BUCKET[/PREFIX][?path_style=1]`` → ``S3Storage``, its client configured from the
  standard AWS environment (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, …, profiles and
  files); path-style addressing with ``?path_style=1`` or ``IMAGESHELF_S3_PATH_STYLE=1``.
- a plain path or ``file://`` URL → ``FolderStorage`` on that folder (uploads staged in
  its ``.imageshelf/tmp``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from . import layout
from .errors import InvalidInput
from .storage import FolderStorage, Storage

if TYPE_CHECKING:
    from .storage_s3 import S3Location

PATH_STYLE_ENV = "IMAGESHELF_S3_PATH_STYLE"
_TRUE = frozenset({"1", "true", "yes", "on"})


def storage_from_url(url: str, tmp_dir: Path | None = None) -> Storage:
    """The storage ``url`` names. ``tmp_dir``: where uploads are staged on this machine
    (an S3 storage makes a private temporary folder when not given)."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("A storage address is needed: a folder, or s3://BUCKET/PREFIX.")
    parts = urlsplit(url.strip())
    if parts.scheme == "s3":
        from .storage_s3 import S3Storage  # boto3 only when asked for

        location = s3_location(url)
        return S3Storage(location, tmp_dir)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise InvalidInput(f"{url!r} names another machine; use a local folder.")
        root = Path(unquote(parts.path))
    elif parts.scheme and len(parts.scheme) > 1:  # "C:\..." has a one-letter "scheme"
        raise InvalidInput(
            f"Unknown storage address {url!r}: use a folder, file:///path or s3://BUCKET/PREFIX."
        )
    else:
        root = Path(url)
    root = root.expanduser().resolve()
    return FolderStorage(root, tmp_dir or root / layout.META_DIR / layout.TMP_DIR)


def s3_location(url: str) -> S3Location:
    """``s3://BUCKET[/PREFIX][?path_style=1]`` taken apart and checked."""
    from .storage_s3 import S3Location

    parts = urlsplit(url.strip())
    bucket = parts.netloc
    if not bucket or "@" in bucket or ":" in bucket:
        raise InvalidInput(
            f"{url!r} names no bucket: write s3://BUCKET or s3://BUCKET/PREFIX "
            "(credentials and endpoint come from the AWS environment)."
        )
    prefix = unquote(parts.path).strip("/")
    query = parse_qs(parts.query)
    unknown = set(query) - {"path_style"}
    if unknown:
        raise InvalidInput(f"Unknown option(s) in {url!r}: {', '.join(sorted(unknown))}.")
    path_style = os.environ.get(PATH_STYLE_ENV, "").strip().lower() in _TRUE
    if "path_style" in query:
        path_style = query["path_style"][-1].strip().lower() in _TRUE
    return S3Location(bucket, prefix + "/" if prefix else "", path_style)
