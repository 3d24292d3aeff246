"""Local backend: workers on one machine talk over Unix domain sockets in a shared directory.

Each worker listens on ``<directory>/<worker_id>.sock``; a sender connects
lazily on its first message to a peer (retrying while the peer is not yet
listening) and keeps one stream per peer, so per-pair order is the stream's
order. One receiver thread per worker multiplexes all incoming streams into
the mailbox, so senders never block on a receiver that is busy computing.

A waiting worker notices a failed peer two ways: the pack parent posts
``<worker_id>.failed`` (``LocalBoard``) when a worker raised or died, and a
socket file that refuses connections can only be a killed worker's, because a
socket appears (by rename) only once it listens and is removed before it closes.
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
import time

from ..buffers import Received
from ..deadline import Deadline
from ..errors import BurstError, DeadlineExpired, PeerGone
from ..mailbox import Mailbox
from ..spec import MiddlewareSpec
from ..topology import Topology
from .base import Backend, StatusBoard
from .frames import HEADER, SEGMENT, FrameReader
from .segments import SegmentWriter, map_segment

# Payloads up to this size are joined with their header into one write.
SMALL_PAYLOAD = 64 * 1024
SOCKET_BUFFER = 4 << 20
MAX_SOCKET_PATH = 107
# While waiting for a message, read the board this often and probe the peer's socket less often.
WATCH_EVERY_S = 0.1
PROBE_EVERY_S = 0.5
KILLED = "died (its socket no longer accepts connections)"
_STOP = b"x"
_DRAIN = b"d"
_LISTENER = "listener"
_WAKE = "wake"


def socket_path(directory: str, worker_id: int) -> str:
    path = os.path.join(directory, f"{worker_id}.sock")
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise BurstError(f"socket path too long for AF_UNIX ({MAX_SOCKET_PATH} bytes max): {path}")
    return path


def failure_path(directory: str, worker_id: int) -> str:
    return os.path.join(directory, f"{worker_id}.failed")


def read_failure(directory: str, worker_id: int) -> str | None:
    """The reason posted for a failed worker, or None while it has not failed."""
    try:
        with open(failure_path(directory, worker_id), encoding="utf-8") as posted:
            return posted.read()
    except FileNotFoundError:
        return None


def open_backend(spec: MiddlewareSpec, worker_id: int, topology: Topology) -> Backend:
    """The burst-wide Local backend: ``uri`` is a directory every pack of the burst shares."""
    return LocalBackend(_shared_directory(spec), worker_id, backlog=topology.size)


def open_board(spec: MiddlewareSpec, group: str) -> StatusBoard:
    return LocalBoard(_shared_directory(spec))


def _shared_directory(spec: MiddlewareSpec) -> str:
    if not spec.uri:
        raise BurstError("the Local backend needs backend_info.uri: a directory all packs share")
    return spec.uri


class LocalBoard(StatusBoard):
    """Failure notices as files next to the sockets, each holding the worker's reason.

    Liveness needs no marks here: a killed worker's socket file refuses
    connections, and one that has yet to start has no socket file at all.
    """

    def __init__(self, directory: str) -> None:
        self._directory = directory

    def pack_started(self) -> None:
        pass

    def heartbeat(self) -> None:
        pass

    def pack_finished(self) -> None:
        pass

    def close(self) -> None:
        pass

    def worker_failed(self, worker: int, reason: str) -> None:
        path = failure_path(self._directory, worker)
        partial = f"{path}.partial"
        with open(partial, "w", encoding="utf-8") as notice:
            notice.write(reason)
        os.replace(partial, path)  # readers never see half a reason


class LocalBackend(Backend):
    """Unix-socket transport among the workers whose sockets live in ``directory``.

    With ``segments_from`` (pack-mates only, ``directory`` in memory), payloads of
    at least that many bytes travel as shared-memory segments (``segments.py``):
    the stream then carries a frame whose channel has the ``SEGMENT`` bit and
    whose payload is the segment's descriptor (length and name). Streams between
    packs never do.
    """

    def __init__(
        self, directory: str, worker_id: int, backlog: int = 128, segments_from: int | None = None
    ) -> None:
        self._directory = directory
        self._segments_from = segments_from or 0
        self._segments = SegmentWriter(directory, worker_id) if segments_from else None
        self._me = worker_id
        self._path = socket_path(directory, worker_id)
        self._mailbox = Mailbox()
        self._peers: dict[int, socket.socket] = {}
        self._send_lock = threading.Lock()
        # Drain requests (tickets) from waiters, served in order by the receiver thread.
        self._drained = threading.Condition()
        self._drain_asked = 0
        self._drain_done = 0
        self._receiving = True
        try:  # a notice left by an earlier worker with this id is not about this one
            os.unlink(failure_path(directory, worker_id))
        except FileNotFoundError:
            pass
        self._listener = _listen(self._path, backlog)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._receive_loop, name="burst-recv", daemon=True)
        self._thread.start()
        self._closed = False

    def send(self, dest: int, channel: int, payload: memoryview, deadline: Deadline) -> None:
        if self._segments is not None and len(payload) >= self._segments_from:
            name = self._segments.write(payload)
            if name is not None:  # else the memory file system is full: use the stream
                channel, payload = channel | SEGMENT, memoryview(name)
        header = HEADER.pack(self._me, channel, len(payload))
        with self._send_lock:
            sock = self._connection(dest, deadline)
            sock.settimeout(deadline.check())
            try:
                if len(payload) <= SMALL_PAYLOAD:
                    sock.sendall(header + payload)
                else:
                    sock.sendall(header)
                    sock.sendall(payload)
            except TimeoutError as exc:
                raise DeadlineExpired() from exc
            except OSError as exc:
                posted = read_failure(self._directory, dest)
                raise PeerGone(posted or f"closed its connection ({exc.strerror or exc})") from exc

    def recv(self, source: int, channel: int, deadline: Deadline) -> Received:
        key = (source, channel)
        next_probe = time.monotonic() + PROBE_EVERY_S
        while True:
            payload = self._mailbox.get(key, deadline, WATCH_EVERY_S)
            if payload is not None:
                return payload
            probe = time.monotonic() >= next_probe
            if probe:
                next_probe = time.monotonic() + PROBE_EVERY_S
            reason = self._gone(source, probe)
            if reason is not None:
                # What the peer wrote before it ended may still sit unread in a socket.
                self._drain(deadline)
                payload = self._mailbox.get(key, deadline, 0)
                if payload is not None:
                    return payload
                raise PeerGone(reason)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._send_lock:
            for sock in self._peers.values():
                sock.close()
            self._peers.clear()
        try:  # first, so a socket that refuses connections always means a killed worker
            os.unlink(self._path)
        except FileNotFoundError:
            pass
        os.write(self._wake_w, _STOP)
        self._thread.join()
        os.close(self._wake_r)
        os.close(self._wake_w)
        self._listener.close()

    def _gone(self, source: int, probe: bool) -> str | None:
        """Why ``source`` will never send again, or None while it may still."""
        reason = read_failure(self._directory, source)
        if reason is None and probe and _refuses(socket_path(self._directory, source)):
            # The pack parent, if it lives, may have posted the exact cause meanwhile.
            reason = read_failure(self._directory, source) or KILLED
        return reason

    def _drain(self, deadline: Deadline) -> None:
        """Return once the receiver thread has turned every byte already sent here into mail."""
        with self._drained:
            self._drain_asked += 1
            ticket = self._drain_asked
        os.write(self._wake_w, _DRAIN)
        with self._drained:
            while self._drain_done < ticket and self._receiving:
                self._drained.wait(deadline.check())

    def _connection(self, dest: int, deadline: Deadline) -> socket.socket:
        sock = self._peers.get(dest)
        if sock is not None:
            return sock
        path = socket_path(self._directory, dest)
        pause = 0.001
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
            try:
                sock.connect(path)
            except FileNotFoundError:  # not listening yet, or already gone
                sock.close()
                posted = read_failure(self._directory, dest)
                if posted is not None:
                    raise PeerGone(posted) from None
                time.sleep(min(pause, deadline.check()))
                pause = min(pause * 2, 0.05)
                continue
            except ConnectionRefusedError:
                sock.close()
                raise PeerGone(read_failure(self._directory, dest) or KILLED) from None
            self._peers[dest] = sock
            return sock

    def _receive_loop(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ, _LISTENER)
        selector.register(self._wake_r, selectors.EVENT_READ, _WAKE)
        try:
            while True:
                for key, _ in selector.select():
                    if key.data is _WAKE:
                        if _STOP in os.read(self._wake_r, 64):
                            return
                        self._drain_all(selector)
                        break  # the drain may have closed streams this batch still names
                    if key.data is _LISTENER:
                        self._accept(selector)
                    elif not key.data.pump():
                        selector.unregister(key.fileobj)
                        key.fileobj.close()
        except Exception as exc:  # the worker must learn why its receives stopped
            self._mailbox.fail(exc)
        finally:
            with self._drained:
                self._receiving = False
                self._drained.notify_all()
            for key in list(selector.get_map().values()):
                if isinstance(key.data, FrameReader):
                    key.fileobj.close()
            selector.close()

    def _drain_all(self, selector: selectors.BaseSelector) -> None:
        with self._drained:
            asked = self._drain_asked
        self._accept(selector)
        for key in list(selector.get_map().values()):
            if isinstance(key.data, FrameReader) and not key.data.pump(max_reads=None):
                selector.unregister(key.fileobj)
                key.fileobj.close()
        with self._drained:
            self._drain_done = asked
            self._drained.notify_all()

    def _accept(self, selector: selectors.BaseSelector) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except BlockingIOError:
                return
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
            conn.setblocking(False)
            selector.register(conn, selectors.EVENT_READ, FrameReader(conn, self._deliver))

    def _deliver(self, key: tuple[int, int], payload: Received) -> None:
        source, channel = key
        if channel & SEGMENT and self._segments is not None:
            segment = map_segment(self._directory, bytes(payload))
            self._mailbox.put((source, channel & ~SEGMENT), segment)
        else:
            self._mailbox.put(key, payload)


def _listen(path: str, backlog: int) -> socket.socket:
    """Listen under a temporary name, then rename into place.

    Peers then never find a socket file that refuses connections from a live
    worker; the rename also replaces a socket left behind by a killed one.
    """
    partial = path[: -len(".sock")] + ".tmp"
    if os.path.lexists(partial):
        os.unlink(partial)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(partial)
        listener.listen(max(backlog, 128))
        listener.setblocking(False)
        os.replace(partial, path)
    except BaseException:
        listener.close()
        raise
    return listener


def _refuses(path: str) -> bool:
    """True when a socket file exists but nobody listens on it: its worker was killed."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.setblocking(False)  # a full backlog must read as "alive", not block the waiter
    try:
        probe.connect(path)
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    finally:
        probe.close()
    return False
