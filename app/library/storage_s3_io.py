"""The few S3 calls the team storage makes, kept to the API that AWS, MinIO, Garage and
SeaweedFS share: GetObject (with Range), HeadObject, PutObject (conditional with
``If-None-Match: *`` where the server supports it), DeleteObject(s), ListObjectsV2,
ListMultipartUploads/AbortMultipartUpload. No bucket policy, versioning, tagging or
server-side copy is relied on.

The client is configured the standard AWS way (boto3's own chain: ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_PROFILE``, ``AWS_REGION``/
``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_S3``, ``~/.aws/config``
and ``~/.aws/credentials``); only path-style addressing is ours to choose, since most
self-hosted servers want it."""

from __future__ import annotations

import io
import threading
from typing import Any, BinaryIO, Final, cast

from .errors import StorageError

# Each read of a ranged body: big enough to stream at disk speed, small enough to hold.
READ_CHUNK: Final = 256 * 1024
# Errors that say the server does not do conditional writes (then HEAD before PUT).
_NO_CONDITIONAL: Final = frozenset({"NotImplemented", "InvalidArgument", "InvalidRequest"})


def make_client(*, path_style: bool) -> Any:
    """An S3 client from the standard AWS environment. ``boto3`` is the ``team`` extra:
    a desktop library never imports it."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:  # pragma: no cover - the extra is installed in tests
        raise StorageError("A team library on S3 needs boto3: install imageshelf[team].") from exc
    config = Config(
        s3={"addressing_style": "path" if path_style else "auto"},
        retries={"mode": "standard", "max_attempts": 4},
        # A store that stops answering fails a request in seconds, never holds a server
        # thread for minutes (boto3's own default is 60 s per attempt).
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=32,  # the server's request threads share one client
        # Every object's bytes are hashed by the library itself (sha256 in the row);
        # only the checksums every S3 server accepts are sent.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client("s3", config=config)


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def is_missing(exc: BaseException) -> bool:
    return error_code(exc) in ("NoSuchKey", "404", "NotFound")


class ConditionalPut:
    """``PUT`` that never replaces an object: ``If-None-Match: *`` where the server
    supports it; where it answers that it does not, HEAD then PUT from then on (a race
    with another writer of the same key remains there, but keys are image ids, made
    fresh by this process, so nobody else writes them)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self.supported: bool | None = None  # learnt from the first answer
        self._lock = threading.Lock()
        self.requests = 0  # PUTs sent (tests count them)

    def put(self, key: str, body: BinaryIO | bytes) -> bool:
        """Writes ``key``; False (nothing written) when it exists."""
        if self.supported is not False:
            try:
                self.requests += 1
                self.client.put_object(Bucket=self.bucket, Key=key, Body=body, IfNoneMatch="*")
                self.supported = True
                return True
            except Exception as exc:
                code = error_code(exc)
                if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                    return False
                if code not in _NO_CONDITIONAL:
                    raise
                with self._lock:
                    self.supported = False
                if not isinstance(body, bytes):
                    body.seek(0)
        if self.exists(key):
            return False
        self.requests += 1
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body)
        return True

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if is_missing(exc):
                return False
            raise
        return True


class ObjectReader(io.RawIOBase):
    """An object's bytes as a seekable, read-only file: each run of reads is one ranged
    GET from the current position, so a seek (a Range request, a ZIP entry) costs one
    new request and nothing is downloaded that is not sent. ``size`` is the object's
    whole length (what the server sends as Content-Length)."""

    def __init__(self, client: Any, bucket: str, key: str, offset: int = 0) -> None:
        super().__init__()
        self.client = client
        self.bucket = bucket
        self.key = key
        self._pos = offset
        self._body: Any = None
        try:
            head = client.get_object(Bucket=bucket, Key=key, Range=f"bytes={offset}-")
        except Exception as exc:
            if is_missing(exc):
                raise FileNotFoundError(key) from None
            if error_code(exc) == "InvalidRange":  # from the very end (an empty rest)
                head = client.head_object(Bucket=bucket, Key=key)
                self.size = int(head["ContentLength"])
                self.etag = str(head.get("ETag", ""))
                return
            raise OSError(f"Could not read {key} from the store: {exc}") from exc
        total = str(head.get("ContentRange", "")).rpartition("/")[2]
        self.size = int(total) if total.isdigit() else int(head["ContentLength"]) + offset
        self.etag = str(head.get("ETag", ""))
        self._body = head["Body"]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        new = {0: offset, 1: self._pos + offset, 2: self.size + offset}[whence]
        if new != self._pos:
            self._drop()
            self._pos = max(0, new)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        if self._pos >= self.size:
            return 0
        if self._body is None:
            answer = self.client.get_object(
                Bucket=self.bucket, Key=self.key, Range=f"bytes={self._pos}-"
            )
            self._body = answer["Body"]
        view = memoryview(buffer).cast("B")
        data = self._body.read(min(len(view), READ_CHUNK))
        n = len(data)
        view[:n] = data
        self._pos += n
        if n == 0:  # the object ended early: it was replaced meanwhile
            raise OSError(f"{self.key} ended before its {self.size:,} bytes.")
        return n

    def _drop(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._drop()
        super().close()


def open_object(client: Any, bucket: str, key: str, offset: int = 0) -> BinaryIO:
    return cast(BinaryIO, io.BufferedReader(ObjectReader(client, bucket, key, offset), READ_CHUNK))
