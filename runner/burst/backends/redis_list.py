"""RedisList backend: one Redis list per (burst, source, destination, channel), RPUSH/BLPOP.

A message is one list element when small (a marker byte + the payload). A big
one is a header element (marker + chunk count) followed by its chunks, pushed
by a single RPUSH: Redis applies it atomically, so chunks of two messages never
interleave and the receiver finds all chunks once it has popped the header.
Elements are removed as they are read, so a finished burst leaves no keys;
every key also expires shortly after the deadline, in case a burst fails.

Failed peers are noticed through ``RedisBoard`` keys that pack parents write:
``failed:<worker>`` holds a reason; ``started:<group>`` without a live
``alive:<group>`` heartbeat means the whole pack was killed. Waits block in
short slices and read them between slices (one MGET).
"""

from __future__ import annotations

import struct
from typing import Any

import redis

from ..buffers import Received
from ..deadline import Deadline
from ..errors import BurstError, PeerGone
from ..spec import MiddlewareSpec
from ..topology import Topology
from .base import HEARTBEAT_EVERY_S, Backend, StatusBoard

INLINE = b"\x00"
CHUNKED = b"\x01"
COUNT = struct.Struct("<Q")
# Small payloads are copied behind the marker: one element, one round trip to read.
INLINE_LIMIT = 64 * 1024
# Redis refuses elements over 512 MB; without a configured chunk size, cut there.
MAX_ELEMENT = 256 << 20
KEY_TTL_AFTER_DEADLINE_MS = 60_000
# BLPOP treats a timeout that rounds to 0 ms as "forever".
MIN_BLOCK_S = 0.01
# A waiting worker reads the board between blocking slices this long.
WATCH_EVERY_S = 0.2
# A pack whose heartbeat is this late counts as killed (several missed beats, not one).
HEARTBEAT_TTL_MS = int(HEARTBEAT_EVERY_S * 5 * 1000)
KILLED = "died (its pack stopped sending heartbeats)"


def open_backend(spec: MiddlewareSpec, worker_id: int, topology: Topology) -> Backend:
    return RedisListBackend(spec, worker_id, topology)


def open_board(spec: MiddlewareSpec, group: str) -> StatusBoard:
    return RedisBoard(spec, group)


def _client(spec: MiddlewareSpec) -> Any:
    if not spec.uri:
        raise BurstError("the RedisList backend needs backend_info.uri, e.g. redis://host:6379")
    return redis.Redis.from_url(str(spec.uri))


def _expire_at_ms(spec: MiddlewareSpec) -> int:
    return int(spec.deadline_ms) + KEY_TTL_AFTER_DEADLINE_MS


class _Keys:
    """Every key of one burst, so the backend and the board agree on names."""

    def __init__(self, burst_id: str) -> None:
        self.prefix = f"burst:{burst_id}"

    def messages(self, source: int, dest: int, channel: int) -> str:
        return f"{self.prefix}:{source}:{dest}:{channel}"

    def failed(self, worker: int) -> str:
        return f"{self.prefix}:failed:{worker}"

    def started(self, group: str) -> str:
        return f"{self.prefix}:started:{group}"

    def alive(self, group: str) -> str:
        return f"{self.prefix}:alive:{group}"


class RedisListBackend(Backend):
    """Messages through Redis lists (this module is the only one importing redis-py)."""

    def __init__(self, spec: MiddlewareSpec, worker_id: int, topology: Topology) -> None:
        self._client = _client(spec)
        self._keys = _Keys(spec.burst_id)
        self._topology = topology
        self._me = worker_id
        self._chunk = spec.chunk_size_kb * 1024 if spec.chunk_size_kb else MAX_ELEMENT
        self._expire_at_ms = _expire_at_ms(spec)

    def send(self, dest: int, channel: int, payload: memoryview, deadline: Deadline) -> None:
        size = len(payload)
        if size <= min(INLINE_LIMIT, self._chunk):
            elements: list[Any] = [INLINE + payload]
        else:
            chunks = [payload[at : at + self._chunk] for at in range(0, size, self._chunk)]
            elements = [CHUNKED + COUNT.pack(len(chunks)), *chunks]
        key = self._keys.messages(self._me, dest, channel)
        pipe = self._client.pipeline(transaction=False)
        pipe.rpush(key, *elements)
        pipe.pexpireat(key, self._expire_at_ms)
        pipe.execute()

    def recv(self, source: int, channel: int, deadline: Deadline) -> Received:
        key = self._keys.messages(source, self._me, channel)
        while True:
            block = max(min(deadline.check(), WATCH_EVERY_S), MIN_BLOCK_S)
            first = self._first(key, block)
            if first is not None:
                return self._message(source, key, first)
            reason = self._gone(source)
            if reason is not None:
                # The peer's last pushes precede its notice: one more look finds them.
                first = self._first(key, None)
                if first is not None:
                    return self._message(source, key, first)
                raise PeerGone(reason)

    def _first(self, key: str, block_s: float | None) -> Any:
        """The oldest element of ``key``, removed; waiting up to ``block_s`` (None: not at all)."""
        if block_s is None:
            return self._client.lpop(key)
        reply = self._client.blpop([key], timeout=block_s)
        return None if reply is None else reply[1]

    def close(self) -> None:
        self._client.close()

    def _message(self, source: int, key: str, first: bytes) -> bytes:
        if first[:1] == INLINE:
            return first[1:]
        (count,) = COUNT.unpack_from(first, 1)
        chunks = self._client.lpop(key, count)
        if not chunks or len(chunks) != count:
            got = len(chunks) if chunks else 0
            raise BurstError(f"message from worker {source} lost chunks ({got} of {count})")
        return chunks[0] if count == 1 else b"".join(chunks)

    def _gone(self, source: int) -> str | None:
        """Why ``source`` will never send again, or None while it may (or has yet to start)."""
        group = self._topology.group_of(source)
        keys = self._keys
        failed, started, alive = self._client.mget(
            [keys.failed(source), keys.started(group), keys.alive(group)]
        )
        if failed is not None:
            return bytes(failed).decode(errors="replace")
        if started is not None and alive is None:
            return KILLED
        return None


class RedisBoard(StatusBoard):
    """A pack's liveness and its workers' failures as keys beside the burst's messages."""

    def __init__(self, spec: MiddlewareSpec, group: str) -> None:
        self._client = _client(spec)
        self._keys = _Keys(spec.burst_id)
        self._group = group
        self._expire_at_ms = _expire_at_ms(spec)

    def pack_started(self) -> None:
        pipe = self._client.pipeline(transaction=False)
        pipe.set(self._keys.started(self._group), b"1", pxat=self._expire_at_ms)
        pipe.set(self._keys.alive(self._group), b"1", px=HEARTBEAT_TTL_MS)
        pipe.execute()

    def heartbeat(self) -> None:
        self._client.set(self._keys.alive(self._group), b"1", px=HEARTBEAT_TTL_MS)

    def worker_failed(self, worker: int, reason: str) -> None:
        self._client.set(self._keys.failed(worker), reason.encode(), pxat=self._expire_at_ms)

    def pack_finished(self) -> None:
        self._client.delete(self._keys.started(self._group), self._keys.alive(self._group))

    def close(self) -> None:
        self._client.close()
