"""The storage API behaves the same on a local directory and on an S3 server."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from ow_apps import storage
from tests.helpers.s3 import free_port, keys

DATA = bytes(range(256)) * 4


@pytest.fixture(params=["local", "s3"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> storage.Location:
    """A fresh root of either kind: a directory, or a key prefix in a new bucket."""
    if request.param == "local":
        return str(tmp_path)
    endpoint = request.getfixturevalue("s3_endpoint")
    return {"kind": "s3", "bucket": request.getfixturevalue("bucket"),
            "key": f"unit-{uuid.uuid4().hex[:8]}", "endpoint_url": endpoint}


def test_write_then_read_whole_and_by_range(root):
    location = storage.join(root, "a", "b.bin")
    storage.write(location, memoryview(DATA))
    assert storage.read(location) == DATA
    assert storage.read_range(location, 10, 5) == DATA[10:15]
    assert storage.read_range(location, len(DATA) - 3, 3) == DATA[-3:]
    assert storage.read_range(location, 7, 0) == b""
    assert storage.size(location) == len(DATA) and storage.exists(location)


def test_a_range_past_the_end_is_an_error(root):
    location = storage.join(root, "short.bin")
    storage.write(location, DATA)
    with pytest.raises(storage.StorageError, match="expected 100"):
        storage.read_range(location, len(DATA) - 24, 100)


def test_missing_object_has_no_size_and_cannot_be_read(root):
    location = storage.join(root, "nothing-here.bin")
    assert storage.size(location) is None and not storage.exists(location)
    with pytest.raises(FileNotFoundError):
        storage.read(location)


def test_staged_data_appears_only_once_the_block_succeeds(root):
    location = storage.join(root, "staged", "data.bin")
    with pytest.raises(RuntimeError), storage.staged(location) as path:
        path.write_bytes(DATA)
        raise RuntimeError("generator failed")
    assert not storage.exists(location)
    with storage.staged(location) as path:
        path.write_bytes(DATA)
        assert not storage.exists(location)
    assert storage.read(location) == DATA


def test_remove_tree_deletes_one_prefix_and_not_its_neighbours(root):
    for name in ["run/x/a.bin", "run/x/deep/b.bin", "run/xy/c.bin"]:
        storage.write(storage.join(root, name), DATA)
    storage.remove_tree(storage.join(root, "run/x"))
    assert not storage.exists(storage.join(root, "run/x/a.bin"))
    assert not storage.exists(storage.join(root, "run/x/deep/b.bin"))
    assert storage.exists(storage.join(root, "run/xy/c.bin"))
    storage.remove_tree(storage.join(root, "run/never-written"))


def test_local_files_leave_no_partial_files_behind(tmp_path):
    storage.write(tmp_path / "out" / "data.bin", DATA)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["data.bin"]


def test_s3_objects_land_under_the_prefix(s3, bucket):
    root = storage.root({"kind": "s3", "bucket": bucket, "prefix": "/runs/", "endpoint_url":
                         s3.meta.endpoint_url, "region": None, "access_key": None,
                         "secret_key": None}, "unused")
    storage.write(storage.join(root, "kmeans/points.f64"), DATA)
    assert keys(s3, bucket) == ["runs/kmeans/points.f64"]


def test_root_follows_the_settings():
    assert storage.root(None, "data") == os.path.abspath("data")
    assert storage.root({"kind": "local", "path": "/srv/data"}, "data") == "/srv/data"
    settings: dict[str, Any] = {"kind": "s3", "bucket": "b", "prefix": "p", "region": None,
                                "endpoint_url": "http://minio:9000", "access_key": None,
                                "secret_key": None}
    assert storage.root(settings, "data") == {"kind": "s3", "bucket": "b", "key": "p",
                                              "endpoint_url": "http://minio:9000"}
    with pytest.raises(ValueError, match="storage.bucket"):
        storage.root({**settings, "bucket": None}, "data")


def test_join_builds_keys_and_paths():
    base = {"kind": "s3", "bucket": "b", "key": "p/"}
    assert storage.join(base, "a", Path("b/c.bin"))["key"] == "p/a/b/c.bin"
    assert storage.join({**base, "key": ""}, "a.bin")["key"] == "a.bin"
    assert storage.join("/data", "a/b.bin") == "/data/a/b.bin"
    assert storage.join("/data", "/elsewhere/b.bin") == "/elsewhere/b.bin"
    assert storage.describe(storage.join(base, "a.bin")) == "s3://b/p/a.bin"


def test_keys_in_the_location_are_used_without_the_environment(s3, bucket, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    storage._connect.cache_clear()
    location = {"kind": "s3", "bucket": bucket, "key": "k.bin",
                "endpoint_url": s3.meta.endpoint_url, "access_key": "id", "secret_key": "key"}
    storage.write(location, DATA)
    assert storage.read_range(location, 1, 2) == DATA[1:3]
    without_keys = {k: v for k, v in location.items() if not k.endswith("_key")}
    with pytest.raises(storage.StorageError, match="no S3 credentials"):
        storage.read(without_keys)


def test_bad_endpoint_is_a_one_line_error(aws_env):
    location = {"kind": "s3", "bucket": "data", "key": "k.bin",
                "endpoint_url": f"http://127.0.0.1:{free_port()}"}
    with pytest.raises(storage.StorageError) as raised:
        storage.read_range(location, 0, 10)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("s3://data/k.bin: Could not connect to the endpoint URL")


def test_missing_bucket_is_a_one_line_error(s3):
    location = {"kind": "s3", "bucket": "no-such-bucket", "key": "k.bin",
                "endpoint_url": s3.meta.endpoint_url}
    with pytest.raises(storage.StorageError, match=r"^s3://no-such-bucket/k.bin: .*NoSuchBucket"):
        storage.write(location, DATA)
