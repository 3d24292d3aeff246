"""Non-blocking readers for an action process's pipes, driven by the event loop.

Raw file descriptors with ``add_reader`` (rather than asyncio streams) let the
container drain stdout/stderr synchronously the moment an answer arrives on fd 3:
the action flushes its logs before answering, so whatever it wrote is already in
the pipe buffers, and reading until EAGAIN attributes it to the right activation.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone

_CHUNK = 1 << 16
# An unterminated line longer than this is logged in pieces (keeps buffering linear).
_MAX_LINE = 1 << 20


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def read_now(fd: int) -> bytes | None:
    """What a non-blocking pipe holds now: None if nothing yet, b"" at EOF (or a broken pipe)."""
    try:
        return os.read(fd, _CHUNK)
    except BlockingIOError:
        return None
    except OSError:
        return b""


@dataclass(frozen=True)
class Oversized:
    """An answer line longer than the channel's limit: only its length in bytes is kept."""

    length: int


class LineChannel:
    """Reads newline-terminated answers from the action's fd 3.

    A line longer than ``limit`` bytes is not kept in memory (an action could
    answer gigabytes); it comes out as :class:`Oversized`.
    """

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self.limit = sys.maxsize
        self._partial: list[bytes] = []
        self._partial_len = 0
        self._lines: list[bytes | Oversized] = []
        self._eof = False
        self._waiter: asyncio.Future[None] | None = None
        self._loop.add_reader(fd, self._on_readable)

    def _on_readable(self) -> None:
        self.drain()
        if (self._lines or self._eof) and self._waiter and not self._waiter.done():
            self._waiter.set_result(None)

    def drain(self) -> None:
        """Move everything readable now into complete lines (and note EOF)."""
        while not self._eof:
            data = read_now(self._fd)
            if data is None:
                return
            if not data:
                self._eof = True
                self._loop.remove_reader(self._fd)
                return
            self._split(data)

    def _split(self, data: bytes) -> None:
        while (cut := data.find(b"\n")) >= 0:
            self._keep(data[:cut])
            if self._partial_len > self.limit:
                self._lines.append(Oversized(self._partial_len))
            else:
                self._lines.append(b"".join(self._partial))
            self._partial = []
            self._partial_len = 0
            data = data[cut + 1 :]
        if data:
            self._keep(data)

    def _keep(self, chunk: bytes) -> None:
        self._partial_len += len(chunk)
        if self._partial_len <= self.limit:
            self._partial.append(chunk)
        else:
            self._partial = []

    def discard_pending(self) -> None:
        """Forget unsolicited lines so the next answer belongs to the next request."""
        self._lines.clear()

    async def next_line(self) -> bytes | Oversized | None:
        """The next complete line, or None once the process closed fd 3."""
        while not self._lines:
            if self._eof:
                return None
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._lines.pop(0)

    def close(self) -> None:
        if not self._eof:
            self._loop.remove_reader(self._fd)
            self._eof = True
        if self._fd >= 0:
            _close(self._fd)
            self._fd = -1


class ActivationLogs:
    """Log lines of one activation, formatted as OpenWhisk stores them, with a size cap."""

    def __init__(self, limit_bytes: int) -> None:
        self.lines: list[str] = []
        self._limit = limit_bytes
        self._size = 0
        self._truncated = False

    def add(self, stream: str, text: str) -> None:
        if self._truncated:
            return
        self._size += len(text)
        if self._size > self._limit:
            self._truncated = True
            return
        self.lines.append(f"{timestamp()} {stream}: {text}")

    def extend(self, lines: list[str]) -> None:
        """Take lines already formatted elsewhere (a cold start's output) as our first ones."""
        self.lines[:0] = lines
        self._size += sum(len(line) for line in lines)

    def finish(self) -> list[str]:
        """The collected lines, ending with OpenWhisk's notice if some were dropped."""
        if self._truncated:
            self.lines.append(
                f"{timestamp()} stderr: Logs were truncated because the total bytes size "
                f"exceeds the limit of {self._limit} bytes."
            )
        return self.lines


def timestamp() -> str:
    """UTC time with microseconds, the prefix of every OpenWhisk log line."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LogCapture:
    """Keeps reading stdout or stderr so the action never blocks on a full pipe.

    Output is attributed to ``sink`` (the running activation's logs); output
    written while the container is idle has no activation and is dropped.
    """

    def __init__(self, fd: int, stream: str) -> None:
        os.set_blocking(fd, False)
        self._fd = fd
        self._stream = stream
        self._loop = asyncio.get_running_loop()
        self._partial = b""
        self._open = True
        self.sink: ActivationLogs | None = None
        self._loop.add_reader(fd, self.drain)

    def drain(self) -> None:
        """Read everything available now; complete lines go to the sink."""
        while self._open:
            data = read_now(self._fd)
            if data is None:
                return
            if not data:
                self._stop_reading()
                return
            lines = (self._partial + data).split(b"\n")
            self._partial = lines.pop()
            if len(self._partial) > _MAX_LINE:
                lines.append(self._partial)
                self._partial = b""
            if self.sink is not None:
                for line in lines:
                    self.sink.add(self._stream, line.decode("utf-8", "replace"))

    def flush_partial(self) -> None:
        """End of an activation: an unterminated last line still belongs to it."""
        if self._partial and self.sink is not None:
            self.sink.add(self._stream, self._partial.decode("utf-8", "replace"))
        self._partial = b""

    def _stop_reading(self) -> None:
        if self._open:
            self._open = False
            self._loop.remove_reader(self._fd)

    def close(self) -> None:
        self._stop_reading()
        if self._fd >= 0:
            _close(self._fd)
            self._fd = -1


class LineWriter:
    """Writes activation lines to the process's stdin without ever blocking the loop."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._pending = bytearray()

    def write(self, data: bytes) -> None:
        """Queue ``data``; a dead reader is noticed on fd 3, so write errors only close."""
        if self._fd < 0:
            return
        self._pending += data
        if len(self._pending) == len(data):  # nothing was queued: try right away
            self._flush()
            if self._pending and self._fd >= 0:
                self._loop.add_writer(self._fd, self._flush)

    def _flush(self) -> None:
        try:
            written = os.write(self._fd, self._pending)
        except BlockingIOError:
            return
        except OSError:
            self.close()
            return
        del self._pending[:written]
        if not self._pending:
            self._loop.remove_writer(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            self._loop.remove_writer(self._fd)
            _close(self._fd)
            self._fd = -1
        self._pending.clear()
