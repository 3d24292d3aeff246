"""RedisStream backend: one Redis stream per (burst, source, destination, channel), XADD/XREAD.

A small message is one entry (field ``d``); a big one is a header entry (field
``n``: the chunk count) followed by one entry per chunk (field ``c``), added in
one MULTI/EXEC so the receiver finds every chunk once it has read the header.
The receiver deletes entries as it reads them and, when it closes, the streams
it read from (an empty stream would otherwise stay); every stream also expires
shortly after the deadline, in case a burst fails. Keys, failure notices and
liveness marks are those of the RedisList backend (``redis_list.py``), so
Dragonfly or KeyDB serve both by URI.
"""

from __future__ import annotations

from typing import Any

from ..deadline import Deadline
from ..errors import BurstError
from ..spec import MiddlewareSpec
from ..topology import Topology
from .base import Backend, StatusBoard
from .redis_list import INLINE_LIMIT, RedisBoard, RedisListBackend

DATA, COUNT, CHUNK = b"d", b"n", b"c"


def open_backend(spec: MiddlewareSpec, worker_id: int, topology: Topology) -> Backend:
    return RedisStreamBackend(spec, worker_id, topology)


def open_board(spec: MiddlewareSpec, group: str) -> StatusBoard:
    return RedisBoard(spec, group)


class RedisStreamBackend(RedisListBackend):
    """Messages through Redis streams; keys, chunk size and the board are the list backend's."""

    def __init__(self, spec: MiddlewareSpec, worker_id: int, topology: Topology) -> None:
        super().__init__(spec, worker_id, topology)
        self._last_id: dict[str, bytes] = {}  # per stream read from: the last entry read

    def send(self, dest: int, channel: int, payload: memoryview, deadline: Deadline) -> None:
        key = self._keys.messages(self._me, dest, channel)
        size = len(payload)
        pipe = self._client.pipeline(transaction=True)
        if size <= min(INLINE_LIMIT, self._chunk):
            pipe.xadd(key, {DATA: payload})
        else:
            starts = range(0, size, self._chunk)
            pipe.xadd(key, {COUNT: str(len(starts))})
            for at in starts:
                pipe.xadd(key, {CHUNK: payload[at : at + self._chunk]})
        pipe.pexpireat(key, self._expire_at_ms)
        pipe.execute()

    def _first(self, key: str, block_s: float | None) -> Any:
        entries = self._read(key, 1, block_s)
        return entries[0] if entries else None

    def close(self) -> None:
        if self._last_id:
            self._client.delete(*self._last_id)
        self._client.close()

    def _read(self, key: str, count: int, block_s: float | None) -> list[tuple[bytes, dict]]:
        block = None if block_s is None else max(int(block_s * 1000), 1)
        reply = self._client.xread({key: self._last_id.get(key, b"0")}, count=count, block=block)
        if not reply:
            return []
        entries = reply[0][1]
        self._last_id[key] = entries[-1][0]
        self._client.xdel(key, *(entry_id for entry_id, _ in entries))
        return entries

    def _message(self, source: int, key: str, first: Any) -> bytes:
        """The message whose first entry, ``(id, fields)``, was just read from ``key``."""
        fields = first[1]
        if DATA in fields:
            return fields[DATA]
        count = int(fields[COUNT])
        entries = self._read(key, count, None)
        if len(entries) != count:
            got = len(entries)
            raise BurstError(f"message from worker {source} lost chunks ({got} of {count})")
        chunks = [fields[CHUNK] for _, fields in entries]
        return chunks[0] if count == 1 else b"".join(chunks)
