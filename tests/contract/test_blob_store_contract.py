"""The blob store contract (``shared.blobs``), held by the local disk and by S3 alike: the S3 adapter
against a real S3-compatible server (moto's server mode, over HTTP), built from its URL the way a
service builds it from ``DOCUMENTS_URL``."""
from __future__ import annotations

import hashlib
import os
import socket
import threading
import uuid

import pytest

from shared import blobs
from tests import files
from tests.s3 import CREDENTIALS, s3_server


@pytest.fixture(scope="module")
def s3():
    saved = {k: os.environ.get(k) for k in CREDENTIALS}
    os.environ.update(CREDENTIALS)  # boto3 finds its credentials where production gives them
    with s3_server() as server:
        yield server
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(params=["local", "s3"])
def url(request, tmp_path):
    """A fresh store's URL, and the endpoint it needs."""
    if request.param == "local":
        return f"file://{tmp_path}/documents", None
    server = request.getfixturevalue("s3")
    return f"s3://{server.bucket(f'thidua-{uuid.uuid4().hex[:8]}')}/docs", server.endpoint_url


@pytest.fixture
def store(url):
    return blobs.from_url(url[0], "awards", url[1])


def test_what_is_put_is_got_back_by_its_sha256(store):
    content = files.pdf("Hồ sơ".encode("utf-8").hex())
    sha256 = store.put(content)
    assert sha256 == hashlib.sha256(content).hexdigest()
    assert store.get(sha256) == content and store.exists(sha256)


def test_putting_the_same_content_again_changes_nothing(store):
    content = files.png()
    assert store.put(content) == store.put(content)
    assert store.get(hashlib.sha256(content).hexdigest()) == content


def test_a_hash_never_put_is_missing(store):
    never = hashlib.sha256(b"never put").hexdigest()
    assert not store.exists(never)
    with pytest.raises(blobs.BlobMissing):
        store.get(never)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "A" * 64, "abc", "0" * 63 + "/"])
def test_anything_but_a_sha256_is_refused_before_it_names_a_file_or_key(store, bad):
    for call in (store.get, store.exists):
        with pytest.raises(ValueError):
            call(bad)


def test_a_large_file_comes_back_whole(store):
    content = os.urandom(3 * 1024 * 1024)
    assert store.get(store.put(content)) == content


def test_concurrent_puts_of_one_content_leave_it_whole(store):
    content = files.docx("x" * 50_000)
    got = []
    threads = [threading.Thread(target=lambda: got.append(store.put(content))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(got) == {hashlib.sha256(content).hexdigest()}
    assert store.get(got[0]) == content


def test_each_service_keeps_its_own_files_under_one_url(url):
    awards, evaluation = blobs.from_url(url[0], "awards", url[1]), blobs.from_url(url[0], "evaluation", url[1])
    sha256 = awards.put(files.jpeg())
    assert awards.exists(sha256) and not evaluation.exists(sha256)


def test_the_s3_keys_are_the_prefix_the_service_and_the_hash(s3):
    bucket = s3.bucket(f"thidua-{uuid.uuid4().hex[:8]}")
    sha256 = blobs.from_url(f"s3://{bucket}/thidua/docs", "evaluation", s3.endpoint_url).put(files.pdf())
    assert s3.keys(bucket) == [f"thidua/docs/evaluation/{sha256}"]


@pytest.fixture(params=["local", "s3"])
def unreachable(request, tmp_path):
    """A store that cannot keep anything: a folder under a plain file; an S3 server that is not there."""
    if request.param == "local":
        (tmp_path / "a-file").write_text("not a folder")
        return blobs.from_url(f"file://{tmp_path}/a-file", "awards")
    request.getfixturevalue("s3")  # its credentials
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return blobs.from_url("s3://thidua/docs", "awards", f"http://127.0.0.1:{port}")


def test_a_store_that_cannot_be_reached_says_so_and_keeps_nothing(unreachable):
    content = files.pdf()
    with pytest.raises(blobs.StoreUnavailable):
        unreachable.put(content)
    with pytest.raises(blobs.StoreUnavailable):
        unreachable.get(hashlib.sha256(content).hexdigest())


def test_a_url_of_no_known_kind_is_refused():
    with pytest.raises(ValueError):
        blobs.from_url("ftp://example/docs", "awards")
    with pytest.raises(ValueError):
        blobs.from_url("s3:///no-bucket", "awards")
