"""Where uploaded files live: a content-addressed blob store, outside the event store.

Events only name a file by its SHA-256 (:mod:`shared.documents`); the bytes are kept here, once
per content, under that hash. Two adapters keep one contract (``tests/contract/
test_blob_store_contract.py`` runs it against both):

* :class:`LocalBlobStore` — a folder on the local disk (the embedded default, under ``DATA_DIR``);
* :class:`S3BlobStore` — a bucket of S3 or any S3-compatible server (MinIO, Ceph, a cloud's
  object storage), through boto3, for production and for several machines.

Contract: ``put(content)`` returns the content's SHA-256 (hex) and stores it; putting the same
content again changes nothing; ``get(sha256)`` returns exactly the bytes put, and raises
:class:`BlobMissing` for a hash never put; ``exists(sha256)`` says which. A hash that is not
64 hex digits is refused with ``ValueError`` before any file or key is made from it. A store
that cannot be reached or written (a server down, a disk full) raises :class:`StoreUnavailable`.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobMissing(KeyError):
    """No content of that hash was ever put in this store."""


class StoreUnavailable(RuntimeError):
    """The store did not answer or could not keep the content: nothing was stored; try again."""


class BlobStore(Protocol):
    def put(self, content: bytes) -> str: ...

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def checked(sha256: str) -> str:
    """The hash, if it is one: a key or a path is never made of anything else."""
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise ValueError(f"not a SHA-256 in hex: {sha256!r}")
    return sha256


class LocalBlobStore:
    """``<root>/ab/cd/<sha256>``: two levels of folders keep any one folder small. A file is
    written beside its place and renamed into it, so a reader never sees half a file and two
    writers of the same content both end with the same whole file."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        h = checked(sha256)
        return self.root / h[:2] / h[2:4] / h

    def put(self, content: bytes) -> str:
        sha256 = digest(content)
        path = self._path(sha256)
        if path.exists():
            return sha256
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        except OSError as exc:
            raise StoreUnavailable(f"{self.root}: {exc}") from exc
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())  # on disk before the event that names it can commit
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StoreUnavailable(f"{self.root}: {exc}") from exc
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha256

    def get(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise BlobMissing(sha256) from exc
        except OSError as exc:
            raise StoreUnavailable(f"{self.root}: {exc}") from exc

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()


class S3BlobStore:
    """``s3://<bucket>/<prefix><sha256>`` through boto3. The client is made at the first call
    (after gunicorn's fork; boto3 clients, unlike sessions, may be shared by threads). Credentials
    and region come the way boto3 always finds them (``AWS_ACCESS_KEY_ID``... or a role);
    ``endpoint_url`` points it at an S3-compatible server instead of AWS."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client=None):
        self.bucket, self.prefix, self.endpoint_url = bucket, prefix, endpoint_url
        self._client, self._lock = client, threading.Lock()

    @property
    def client(self):
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config
                # a request waits seconds, not boto3's default minute, for a server that is down
                self._client = boto3.client("s3", endpoint_url=self.endpoint_url or None, config=Config(
                    connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"}))
            return self._client

    def _key(self, sha256: str) -> str:
        return f"{self.prefix}{checked(sha256)}"

    def put(self, content: bytes) -> str:
        sha256 = digest(content)
        if not self.exists(sha256):
            # the server checks the bytes it received against the hash (x-amz-checksum-sha256)
            with self._answers():
                self.client.put_object(Bucket=self.bucket, Key=self._key(sha256), Body=content,
                                       ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode())
        return sha256

    def get(self, sha256: str) -> bytes:
        key = self._key(sha256)
        with self._answers(missing=sha256):
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def exists(self, sha256: str) -> bool:
        key = self._key(sha256)
        try:
            with self._answers(missing=sha256):
                self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except BlobMissing:
            return False

    @contextlib.contextmanager
    def _answers(self, missing: str | None = None):
        """boto3's errors in the contract's words: a key not there is missing, anything else unavailable."""
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            yield
        except ClientError as exc:
            if missing and exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise BlobMissing(missing) from exc
            raise StoreUnavailable(f"s3://{self.bucket}/{self.prefix}: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"s3://{self.bucket}/{self.prefix}: {exc}") from exc


def from_url(url: str, service: str, endpoint_url: str | None = None) -> BlobStore:
    """The store a setting names, with a place of the service's own: ``file:///srv/docs`` (or a
    plain path) -> ``/srv/docs/<service>/``; ``s3://bucket/prefix`` -> keys ``prefix/<service>/<sha256>``.
    Services share nothing: each keeps its files where only it reads and writes."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(f"an S3 URL names its bucket: s3://<bucket>/<prefix>, not {url!r}")
        prefix = "/".join(p for p in (parsed.path.strip("/"), service) if p) + "/"
        return S3BlobStore(parsed.netloc, prefix, endpoint_url)
    if parsed.scheme in ("file", ""):
        return LocalBlobStore(Path(parsed.path if parsed.scheme == "file" else url) / service)
    raise ValueError(f"unknown document store {url!r}: use a folder (file:///...) or s3://<bucket>/<prefix>")
