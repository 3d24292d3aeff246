"""Length-prefixed frames on a byte stream: the wire format of the Local backend.

A frame is a fixed header (source worker, channel, payload length) followed by
the payload. The reader batches small frames through one buffer (few system
calls) and receives big payloads straight into their final bytearray (one copy,
from the kernel).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable

HEADER = struct.Struct("<iiQ")
# A channel bit only pack-mates set: the payload is the name of a shared-memory segment.
SEGMENT = 1 << 30
BUFFER_SIZE = 64 * 1024
# Bounded work per wake-up, so one fast sender cannot starve the other connections.
MAX_READS_PER_PUMP = 64

Deliver = Callable[[tuple[int, int], "bytes | bytearray"], None]


class FrameReader:
    """Incrementally parses the frames of one non-blocking connection."""

    def __init__(self, sock: socket.socket, deliver: Deliver) -> None:
        self._sock = sock
        self._deliver = deliver
        self._buf = bytearray(BUFFER_SIZE)
        self._view = memoryview(self._buf)
        self._start = 0
        self._end = 0
        self._body: bytearray | None = None
        self._body_view = memoryview(b"")
        self._body_got = 0
        self._body_key = (0, 0)

    def pump(self, max_reads: int | None = MAX_READS_PER_PUMP) -> bool:
        """Consume what the socket has ready; return False once the peer closed the stream.

        ``max_reads=None`` reads until the socket has nothing more (or ends), so
        every byte the peer wrote so far has become a frame.
        """
        reads = 0
        while max_reads is None or reads < max_reads:
            reads += 1
            try:
                if self._body is not None:
                    count = self._sock.recv_into(self._body_view[self._body_got :])
                    if count == 0:
                        return False
                    self._fill_body(count)
                    continue
                self._compact()
                count = self._sock.recv_into(self._view[self._end :])
            except BlockingIOError:
                return True
            if count == 0:
                return False
            self._end += count
            self._parse()
        return True

    def _fill_body(self, count: int) -> None:
        self._body_got += count
        if self._body is not None and self._body_got == len(self._body):
            body, self._body = self._body, None
            self._body_view = memoryview(b"")
            self._deliver(self._body_key, body)

    def _compact(self) -> None:
        """Move a partial frame to the front so the buffer always has room to grow it."""
        if self._start == 0:
            return
        pending = self._end - self._start
        self._buf[:pending] = self._view[self._start : self._end]
        self._start, self._end = 0, pending

    def _parse(self) -> None:
        while self._end - self._start >= HEADER.size:
            source, channel, length = HEADER.unpack_from(self._buf, self._start)
            body_start = self._start + HEADER.size
            available = self._end - body_start
            if available >= length:
                body_end = body_start + length
                self._deliver((source, channel), bytes(self._view[body_start:body_end]))
                self._start = body_end
                continue
            if HEADER.size + length <= BUFFER_SIZE:
                return  # fits in the buffer: wait for the rest
            body = bytearray(length)
            body[:available] = self._view[body_start : self._end]
            self._body, self._body_view = body, memoryview(body)
            self._body_got, self._body_key = available, (source, channel)
            self._start = self._end = 0
            return
