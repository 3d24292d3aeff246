"""RedisList backend: one Redis list per (burst, source, destination, channel), RPUSH/BLPOP.

A message is one list element when small (a marker byte + the payload). A big
one is a header element (marker + chunk count) followed by its chunks, pushed
by a single RPUSH: Redis applies it atomically, so chunks of two messages never
interleave and the receiver finds all chunks once it has popped the header.
Elements are removed as they are read, so a finished burst leaves no keys;
every key also expires shortly after the deadline, in case a burst fails.
"""

from __future__ import annotations

import struct
from typing import Any

import redis

from ..deadline import Deadline
from ..errors import BurstError
from ..spec import MiddlewareSpec
from .base import Backend

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


def open_backend(spec: MiddlewareSpec, worker_id: int, burst_size: int) -> Backend:
    if not spec.uri:
        raise BurstError("the RedisList backend needs backend_info.uri, e.g. redis://host:6379")
    return RedisListBackend(spec, worker_id)


class RedisListBackend(Backend):
    """Messages through Redis lists (this module is the only one importing redis-py)."""

    def __init__(self, spec: MiddlewareSpec, worker_id: int) -> None:
        self._client: Any = redis.Redis.from_url(str(spec.uri))
        self._prefix = f"burst:{spec.burst_id}"
        self._me = worker_id
        self._chunk = spec.chunk_size_kb * 1024 if spec.chunk_size_kb else MAX_ELEMENT
        self._expire_at_ms = int(spec.deadline_ms) + KEY_TTL_AFTER_DEADLINE_MS

    def send(self, dest: int, channel: int, payload: memoryview, deadline: Deadline) -> None:
        size = len(payload)
        if size <= min(INLINE_LIMIT, self._chunk):
            elements: list[Any] = [INLINE + payload]
        else:
            chunks = [payload[at : at + self._chunk] for at in range(0, size, self._chunk)]
            elements = [CHUNKED + COUNT.pack(len(chunks)), *chunks]
        key = self._key(self._me, dest, channel)
        pipe = self._client.pipeline(transaction=False)
        pipe.rpush(key, *elements)
        pipe.pexpireat(key, self._expire_at_ms)
        pipe.execute()

    def recv(self, source: int, channel: int, deadline: Deadline) -> bytes | bytearray:
        key = self._key(source, self._me, channel)
        reply = None
        while reply is None:
            reply = self._client.blpop([key], timeout=max(deadline.check(), MIN_BLOCK_S))
        first: bytes = reply[1]
        if first[:1] == INLINE:
            return first[1:]
        (count,) = COUNT.unpack_from(first, 1)
        chunks = self._client.lpop(key, count)
        if not chunks or len(chunks) != count:
            got = len(chunks) if chunks else 0
            raise BurstError(f"message from worker {source} lost chunks ({got} of {count})")
        return chunks[0] if count == 1 else b"".join(chunks)

    def close(self) -> None:
        self._client.close()

    def _key(self, source: int, dest: int, channel: int) -> str:
        return f"{self._prefix}:{source}:{dest}:{channel}"
