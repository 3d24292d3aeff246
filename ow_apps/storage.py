"""Where the apps' data lives: files under a local directory or objects in an S3-compatible bucket.

One module on both sides, so the driver that writes the data and the workers
that read it agree on where it is: the contract modules import it as
`ow_apps.storage`, and each data app lists it in `include:` so that it ships
in the action zip as the top-level module `storage`. It therefore imports
nothing from the project, and boto3 only once an S3 location is used, so a
local run needs no boto3 in the action's runtime.

A location is JSON, because it travels in payloads. A local file or directory
is its path. An S3 object or key prefix is a dict {"kind": "s3", "bucket",
"key"} with optional "endpoint_url", "region", "access_key" and "secret_key";
what is left out comes from the standard AWS environment variables and files
of the process that uses the location, so credentials need not travel at all.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

Location = str | os.PathLike | dict[str, Any]
Name = str | os.PathLike
S3_OPTIONS = ("endpoint_url", "region", "access_key", "secret_key")
MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
# A presigned URL outlives any run it is handed to (a week is SigV4's longest); temporary
# credentials end it sooner, with them.
PRESIGN_EXPIRES_S = 7 * 24 * 3600


class StorageError(OSError):
    """A request the storage refused or never answered; one line naming the location."""


def root(settings: Mapping[str, Any] | None, data_dir: Name) -> Location:
    """The location under which apps keep their data, from the run's `storage` settings.

    Without settings (an app called outside a run, as unit tests do) or without a
    local path, it is `data_dir`, where the data lived before storage was configurable.
    """
    if settings is not None and settings["kind"] == "s3":
        if not settings["bucket"]:
            raise ValueError("storage=s3 needs storage.bucket, an existing bucket for the data")
        location: dict[str, Any] = {"kind": "s3", "bucket": settings["bucket"],
                                    "key": (settings["prefix"] or "").strip("/")}
        location.update({key: settings[key] for key in S3_OPTIONS if settings[key] is not None})
        return location
    path = settings["path"] if settings is not None else None
    return os.path.abspath(path or data_dir)


def join(base: Location, *names: Name) -> Location:
    """The location of `names` under `base`, a directory or key prefix.

    Names are "/"-separated like keys; under a local base an absolute name stands
    for itself, as in `os.path.join`.
    """
    if isinstance(base, Mapping):
        parts = (part.strip("/") for part in (base["key"], *map(os.fspath, names)))
        return {**base, "key": "/".join(part for part in parts if part)}
    return os.path.join(base, *names)


def describe(location: Location) -> str:
    """The location for messages: a path or s3://bucket/key, never an endpoint's credentials."""
    if isinstance(location, Mapping):
        return f"s3://{location['bucket']}/{location['key']}"
    return os.fspath(location)


def read_range(location: Location, offset: int, length: int) -> bytes:
    """Bytes [offset, offset + length): a worker fetches only its own part of the input."""
    if length == 0:
        return b""
    if isinstance(location, Mapping):
        with _errors(location):
            data = _client(location).get_object(
                Bucket=location["bucket"], Key=location["key"],
                Range=f"bytes={offset}-{offset + length - 1}",
            )["Body"].read()
    else:
        with open(location, "rb") as file:
            file.seek(offset)
            data = file.read(length)
    if len(data) != length:
        raise StorageError(f"{describe(location)}: {len(data)} bytes at offset {offset}, "
                           f"expected {length}")
    return data


def read(location: Location) -> bytes:
    if isinstance(location, Mapping):
        with _errors(location):
            response = _client(location).get_object(Bucket=location["bucket"],
                                                    Key=location["key"])
            return response["Body"].read()
    return Path(location).read_bytes()


def write(location: Location, data: bytes | bytearray | memoryview) -> None:
    """Stores `data` whole: a reader sees the old object, or none, or all of the new one."""
    if isinstance(location, Mapping):
        with _errors(location):
            _client(location).put_object(Bucket=location["bucket"], Key=location["key"],
                                         Body=bytes(data))
        return
    with staged(location) as path:
        path.write_bytes(data)


@contextmanager
def staged(location: Location) -> Iterator[Path]:
    """A local file to fill; when the block ends without error it becomes `location`.

    For data too large to hold in memory: the generator writes a file piece by
    piece, published at once by a rename, or for S3 by a (multipart) upload from
    the system's temporary directory (TMPDIR), which must have room for it.
    """
    if isinstance(location, Mapping):
        with tempfile.TemporaryDirectory(prefix="storage-") as scratch:
            path = Path(scratch) / "object"
            yield path
            with _errors(location):
                _client(location).upload_file(str(path), location["bucket"], location["key"])
        return
    target = Path(location)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A name of our own next to the target: concurrent writers never share a file.
    partial = target.with_name(f"{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")
    try:
        yield partial
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def size(location: Location) -> int | None:
    """Bytes stored at `location`, or None when nothing is: generators compare it with
    the size they would write, so complete data is reused and partial data replaced."""
    try:
        if isinstance(location, Mapping):
            with _errors(location):
                return _client(location).head_object(Bucket=location["bucket"],
                                                     Key=location["key"])["ContentLength"]
        return os.stat(location).st_size
    except FileNotFoundError:
        return None


def exists(location: Location) -> bool:
    return size(location) is not None


def remove_tree(location: Location) -> None:
    """Deletes everything under a directory or key prefix, such as a run's scratch data."""
    if not isinstance(location, Mapping):
        shutil.rmtree(location, ignore_errors=True)
        return
    client = _client(location)
    bucket, prefix = location["bucket"], location["key"].rstrip("/") + "/"
    with _errors(location):
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                     Prefix=prefix):
            objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if not objects:
                continue
            failed = client.delete_objects(Bucket=bucket,
                                           Delete={"Objects": objects, "Quiet": True})
            if failed.get("Errors"):
                error = failed["Errors"][0]
                raise StorageError(f"s3://{bucket}/{error['Key']}: not deleted: "
                                   f"{error['Message']} ({error['Code']})")


def presigned(root: Location, reads: Iterable[Name] = (), writes: Iterable[Name] = (),
              expires_s: int = PRESIGN_EXPIRES_S) -> dict[str, Any]:
    """The payload entry `presigned`: URLs that let a worker with no credentials and no AWS
    SDK (the Rust actions) GET the objects `reads` (ranged reads too) and PUT the objects
    `writes`, named under `root`, as {"presigned": {name: url}}.

    Empty under a local root, where such a worker opens the files itself. Signing sends
    no request, so a driver can hand out one URL per object and worker cheaply.
    """
    if not isinstance(root, Mapping):
        return {}
    client = _client(root)
    urls = {}
    for method, names in (("get_object", reads), ("put_object", writes)):
        for name in names:
            location = join(root, name)
            with _errors(location):
                urls[os.fspath(name)] = client.generate_presigned_url(
                    method, Params={"Bucket": location["bucket"], "Key": location["key"]},
                    ExpiresIn=expires_s)
    return {"presigned": urls}


def _client(location: Mapping[str, Any]) -> Any:
    return _connect(*(location.get(key) for key in S3_OPTIONS))


@cache
def _connect(endpoint_url: str | None, region: str | None, access_key: str | None,
             secret_key: str | None) -> Any:
    """One client per endpoint and identity, reused: making one takes a good part of a second."""
    import boto3
    from botocore.config import Config

    # Where botocore found the keys is no news for the runner's console and log.
    logging.getLogger("botocore.credentials").setLevel(logging.WARNING)
    session = boto3.session.Session(aws_access_key_id=access_key,
                                    aws_secret_access_key=secret_key, region_name=region)
    return session.client("s3", endpoint_url=endpoint_url,
                          config=Config(retries={"mode": "standard"}))


@contextmanager
def _errors(location: Mapping[str, Any]) -> Iterator[None]:
    """botocore's exceptions as one-line OSErrors; a missing object as FileNotFoundError,
    like a missing local file."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        yield
    except ClientError as error:
        details = error.response.get("Error", {})
        code = str(details.get("Code", ""))
        if code in MISSING_CODES:
            raise FileNotFoundError(f"{describe(location)}: no such object") from error
        raise StorageError(f"{describe(location)}: {details.get('Message') or error} "
                           f"({code})") from error
    except NoCredentialsError as error:
        raise StorageError(f"{describe(location)}: no S3 credentials; set AWS_ACCESS_KEY_ID "
                           "and AWS_SECRET_ACCESS_KEY (or storage.access_key and "
                           "storage.secret_key)") from error
    except (BotoCoreError, S3UploadFailedError) as error:
        raise StorageError(f"{describe(location)}: {error}") from error
