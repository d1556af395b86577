"""The derived-file seam on S3 (``S3Derived``) when the store answers with an error: every
failure is an ``OSError`` (what the caches catch to serve without keeping), never one of
botocore's own exceptions leaking to a caller that does not know them."""

from __future__ import annotations

from pathlib import Path

import pytest

from imageshelf.app.library.storage_s3 import S3Storage
from imageshelf.app.library.storage_s3_derived import S3Derived


def test_a_store_that_refuses_raises_oserror(s3_storage: S3Storage, tmp_path: Path) -> None:
    derived = s3_storage.derived_files(tmp_path)
    assert isinstance(derived, S3Derived)
    derived.put("transforms/ab/abc/10x-inside.png", b"result")
    assert [e.key for e in derived.list("transforms/")] == ["transforms/ab/abc/10x-inside.png"]
    derived.bucket = "imageshelf-no-such-bucket"  # the real server answers NoSuchBucket
    with pytest.raises(OSError):
        derived.put("transforms/ab/abc/20x-inside.png", b"result")
    with pytest.raises(OSError):
        list(derived.list("transforms/"))
    with pytest.raises(OSError):
        derived.get("transforms/ab/abc/10x-inside.png")
