"""``S3Derived``: thumbnails, transform results and location-free copies of a team
library, as objects under ``PREFIX/derived/`` (the same keys as ``.imageshelf/`` holds in
a folder library: ``derived/thumbs/ab/ab12….jpg``, ``derived/transforms/ab/ab12…/…``).

A PUT replaces an object whole, so ``put`` is atomic by itself. ``touch`` writes nothing:
S3 cannot change an object's time without copying it, so the transform cache's use order
survives a restart as the order results were made (the in-process order is still kept
by use). ``local_path`` downloads into ``tmp_dir/objects`` once per object version, for
the window's image loader and the transform workers, which read files by name."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Final

from .derived import DerivedEntry
from .files import write_atomic
from .storage_s3_io import is_missing, open_object

_DELETE_BATCH: Final = 1000  # DeleteObjects takes at most 1,000 keys


class S3Derived:
    def __init__(self, client: Any, bucket: str, prefix: str, tmp_dir: Path) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix  # the storage's prefix + "derived/"
        self.copies = tmp_dir / "objects"

    def get(self, key: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except Exception as exc:
            if is_missing(exc):
                return None
            raise OSError(f"Could not read {key} from the store: {exc}") from exc
        with contextlib.closing(answer["Body"]) as body:
            data: bytes = body.read()
        return data

    def put(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)
        except Exception as exc:
            raise OSError(f"Could not keep {key} in the store: {exc}") from exc

    def open(self, key: str, offset: int = 0) -> BinaryIO:
        return open_object(self.client, self.bucket, self.prefix + key, offset)

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except Exception as exc:
            if is_missing(exc):
                return False
            raise
        return True

    def remove(self, key: str) -> None:
        with contextlib.suppress(Exception):
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def remove_prefix(self, prefix: str) -> None:
        keys = [e.key for e in self.list(prefix)]
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = keys[start : start + _DELETE_BATCH]
            with contextlib.suppress(Exception):
                self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": self.prefix + k} for k in batch], "Quiet": True},
                )

    def list(self, prefix: str) -> Iterator[DerivedEntry]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        try:
            for page in pages:
                for item in page.get("Contents", ()):
                    key = str(item["Key"])[len(self.prefix) :]
                    yield DerivedEntry(key, int(item["Size"]), item["LastModified"].timestamp())
        except OSError:
            raise
        except Exception as exc:  # botocore's errors: an OSError, as the seam promises
            raise OSError(f"Could not list {prefix} in the store: {exc}") from exc

    def touch(self, key: str) -> None:
        return None  # see the module's docstring

    def local_path(self, key: str) -> Path:
        return self.local_copy(self.prefix + key)

    def local_copy(self, object_key: str) -> Path:
        """A local file with the object's bytes, named by the object's key and ETag (a
        replaced object gets a new copy); written atomically, so readers in other
        threads see all of it or nothing. ``FileNotFoundError`` when it is gone."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=object_key)
        except Exception as exc:
            if is_missing(exc):
                raise FileNotFoundError(object_key) from None
            raise OSError(f"Could not read {object_key} from the store: {exc}") from exc
        tag = hashlib.sha256(f"{object_key}\0{head.get('ETag', '')}".encode()).hexdigest()
        suffix = os.path.splitext(object_key)[1]
        path = self.copies / tag[:2] / (tag + suffix)
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=object_key)
            with contextlib.closing(answer["Body"]) as body:
                data = body.read()
        except Exception as exc:
            if is_missing(exc):
                raise FileNotFoundError(object_key) from None
            raise OSError(f"Could not read {object_key} from the store: {exc}") from exc
        write_atomic(path, data)
        return path
