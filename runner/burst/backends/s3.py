"""S3 backend: each message is an object under the burst's prefix, read and deleted by its receiver.

The URI is ``s3://[KEY:SECRET@]BUCKET[?endpoint=URL&region=NAME]``; without
credentials boto3 looks for them as usual (environment, files, instance role).
Message ``k`` from ``source`` to ``dest`` on ``channel`` is the object
``burst/<id>/<source>/<dest>/<channel>/<k>``: ``0x00`` + payload when it fits
one chunk, else ``0x01`` + the chunk count (little-endian uint64), its chunks
being the objects ``.../<k>.<i>``, written first so that a receiver that finds
the head object finds every chunk. Object stores have no blocking read, so a
receiver polls for the head, backing off from 2 ms to 50 ms; it deletes every
object it read, so a finished burst leaves nothing behind.

The board is objects too (``board/failed/<worker>``, ``board/started/<group>``
and ``board/alive/<group>``, which holds the epoch time of the pack's last
heartbeat); a pack whose heartbeat is older than a few beats was killed.
"""

from __future__ import annotations

import struct
import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
from botocore.config import Config

from ..buffers import Received
from ..deadline import Deadline
from ..errors import BurstError, PeerGone
from ..spec import MiddlewareSpec
from ..topology import Topology
from .base import HEARTBEAT_EVERY_S, Backend, StatusBoard

INLINE = b"\x00"
CHUNKED = b"\x01"
COUNT = struct.Struct("<Q")
FIRST_POLL_S = 0.002
MAX_POLL_S = 0.05
WATCH_EVERY_S = 0.25  # board reads of a waiting worker: up to 3 GETs each
HEARTBEAT_STALE_S = HEARTBEAT_EVERY_S * 5
KILLED = "died (its pack stopped sending heartbeats)"

# One session for every client of this process, its S3 model loaded at import: the pack
# imports this module before it forks (``backends.preload``), so a worker's client then
# costs a few milliseconds instead of the 0.1-0.3 s of loading the model again.
_SESSION = boto3.session.Session()
_SESSION.client("s3", region_name="us-east-1", aws_access_key_id="-", aws_secret_access_key="-")


def open_backend(spec: MiddlewareSpec, worker_id: int, topology: Topology) -> Backend:
    return S3Backend(spec, worker_id, topology)


def open_board(spec: MiddlewareSpec, group: str) -> StatusBoard:
    return S3Board(spec, group)


class _Bucket:
    """One burst's objects in one bucket: names, and the few calls the backend makes."""

    def __init__(self, spec: MiddlewareSpec) -> None:
        if not spec.uri or not spec.uri.startswith("s3://"):
            raise BurstError("the S3 backend needs backend_info.uri, e.g. s3://bucket?endpoint=...")
        parts = urlsplit(spec.uri)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        self.name = parts.hostname or ""
        self.prefix = f"burst/{spec.burst_id}/"
        self.client = _SESSION.client(
            "s3",
            endpoint_url=query.get("endpoint"),
            region_name=query.get("region", "us-east-1"),
            aws_access_key_id=unquote(parts.username) if parts.username else None,
            aws_secret_access_key=unquote(parts.password) if parts.password else None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )

    def put(self, key: str, body: Any) -> None:
        self.client.put_object(Bucket=self.name, Key=self.prefix + key, Body=body)

    def get(self, key: str) -> bytes | None:
        try:
            reply = self.client.get_object(Bucket=self.name, Key=self.prefix + key)
        except self.client.exceptions.NoSuchKey:
            return None
        return reply["Body"].read()

    def delete(self, *keys: str) -> None:
        objects = [{"Key": self.prefix + key} for key in keys]
        for at in range(0, len(objects), 1000):  # the most one request may name
            self.client.delete_objects(
                Bucket=self.name, Delete={"Objects": objects[at : at + 1000], "Quiet": True}
            )

    def close(self) -> None:
        self.client.close()


def _message_key(source: int, dest: int, channel: int, number: int) -> str:
    return f"{source}/{dest}/{channel}/{number}"


class S3Backend(Backend):
    """Messages as objects (this module is the only one importing boto3)."""

    def __init__(self, spec: MiddlewareSpec, worker_id: int, topology: Topology) -> None:
        self._bucket = _Bucket(spec)
        self._topology = topology
        self._me = worker_id
        self._chunk = spec.chunk_size_kb * 1024 if spec.chunk_size_kb else None
        self._sent: dict[tuple[int, int], int] = {}  # (dest, channel): messages sent
        self._received: dict[tuple[int, int], int] = {}  # (source, channel): messages read

    def send(self, dest: int, channel: int, payload: memoryview, deadline: Deadline) -> None:
        number = self._sent.get((dest, channel), 0)
        self._sent[(dest, channel)] = number + 1
        key = _message_key(self._me, dest, channel, number)
        if self._chunk is None or len(payload) <= self._chunk:
            self._bucket.put(key, INLINE + payload)
            return
        starts = range(0, len(payload), self._chunk)
        for index, at in enumerate(starts):
            self._bucket.put(f"{key}.{index}", bytes(payload[at : at + self._chunk]))
        self._bucket.put(key, CHUNKED + COUNT.pack(len(starts)))

    def recv(self, source: int, channel: int, deadline: Deadline) -> Received:
        number = self._received.get((source, channel), 0)
        key = _message_key(source, self._me, channel, number)
        pause = FIRST_POLL_S
        next_watch = time.monotonic() + WATCH_EVERY_S
        while True:
            head = self._bucket.get(key)
            if head is None and time.monotonic() >= next_watch:
                next_watch = time.monotonic() + WATCH_EVERY_S
                reason = self._gone(source)
                if reason is not None:
                    head = self._bucket.get(key)  # what it wrote before it ended
                    if head is None:
                        raise PeerGone(reason)
            if head is not None:
                self._received[(source, channel)] = number + 1
                return self._message(source, key, head)
            time.sleep(min(pause, deadline.check()))
            pause = min(pause * 2, MAX_POLL_S)

    def close(self) -> None:
        self._bucket.close()

    def _message(self, source: int, key: str, head: bytes) -> bytes:
        if head[:1] == INLINE:
            self._bucket.delete(key)
            return head[1:]
        (count,) = COUNT.unpack_from(head, 1)
        names = [f"{key}.{index}" for index in range(count)]
        chunks = [self._bucket.get(name) for name in names]
        self._bucket.delete(key, *names)
        if any(chunk is None for chunk in chunks):
            got = sum(chunk is not None for chunk in chunks)
            raise BurstError(f"message from worker {source} lost chunks ({got} of {count})")
        return b"".join(chunk for chunk in chunks if chunk is not None)

    def _gone(self, source: int) -> str | None:
        return read_board(self._bucket, self._topology.group_of(source), source)


def read_board(bucket: _Bucket, group: str, source: int) -> str | None:
    """Why ``source`` will never send again, or None while it may (or has yet to start)."""
    failed = bucket.get(f"board/failed/{source}")
    if failed is not None:
        return failed.decode(errors="replace")
    started = f"board/started/{group}"
    if bucket.get(started) is None:
        return None
    alive = bucket.get(f"board/alive/{group}")
    if alive is not None and time.time() - float(alive) <= HEARTBEAT_STALE_S:
        return None
    # A pack writes ``alive`` before ``started`` and removes ``started`` before ``alive``: one
    # still started after its ``alive`` was seen gone or stale was killed, not finished meanwhile.
    return KILLED if bucket.get(started) is not None else None


class S3Board(StatusBoard):
    """A pack's liveness and its workers' failures as small objects beside the messages."""

    def __init__(self, spec: MiddlewareSpec, group: str) -> None:
        self._bucket = _Bucket(spec)
        self._group = group

    def pack_started(self) -> None:
        self.heartbeat()  # first, as ``read_board`` relies on
        self._bucket.put(f"board/started/{self._group}", b"1")

    def heartbeat(self) -> None:
        self._bucket.put(f"board/alive/{self._group}", repr(time.time()).encode())

    def worker_failed(self, worker: int, reason: str) -> None:
        self._bucket.put(f"board/failed/{worker}", reason.encode())

    def pack_finished(self) -> None:
        # One after the other, in the order ``read_board`` relies on.
        self._bucket.delete(f"board/started/{self._group}")
        self._bucket.delete(f"board/alive/{self._group}")

    def close(self) -> None:
        self._bucket.close()
