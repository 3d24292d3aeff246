"""Local backend: workers on one machine talk over Unix domain sockets in a shared directory.

Each worker listens on ``<directory>/<worker_id>.sock``; a sender connects
lazily on its first message to a peer (retrying while the peer is not yet
listening) and keeps one stream per peer, so per-pair order is the stream's
order. One receiver thread per worker multiplexes all incoming streams into
the mailbox, so senders never block on a receiver that is busy computing.
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
import time

from ..deadline import Deadline
from ..errors import BurstError, DeadlineExpired, PeerGone
from ..mailbox import Mailbox
from ..spec import MiddlewareSpec
from .base import Backend
from .frames import HEADER, FrameReader

# Payloads up to this size are joined with their header into one write.
SMALL_PAYLOAD = 64 * 1024
SOCKET_BUFFER = 4 << 20
MAX_SOCKET_PATH = 107


def socket_path(directory: str, worker_id: int) -> str:
    path = os.path.join(directory, f"{worker_id}.sock")
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise BurstError(f"socket path too long for AF_UNIX ({MAX_SOCKET_PATH} bytes max): {path}")
    return path


def open_backend(spec: MiddlewareSpec, worker_id: int, burst_size: int) -> Backend:
    """The burst-wide Local backend: ``uri`` is a directory every pack of the burst shares."""
    if not spec.uri:
        raise BurstError("the Local backend needs backend_info.uri: a directory all packs share")
    return LocalBackend(spec.uri, worker_id, backlog=burst_size)


class LocalBackend(Backend):
    """Unix-socket transport among the workers whose sockets live in ``directory``."""

    def __init__(self, directory: str, worker_id: int, backlog: int = 128) -> None:
        self._directory = directory
        self._me = worker_id
        self._path = socket_path(directory, worker_id)
        self._mailbox = Mailbox()
        self._peers: dict[int, socket.socket] = {}
        self._send_lock = threading.Lock()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(self._path):
            os.unlink(self._path)  # left over by a worker that was killed
        self._listener.bind(self._path)
        self._listener.listen(max(backlog, 128))
        self._listener.setblocking(False)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._receive_loop, name="burst-recv", daemon=True)
        self._thread.start()
        self._closed = False

    def send(self, dest: int, channel: int, payload: memoryview, deadline: Deadline) -> None:
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
                raise PeerGone(str(exc)) from exc

    def recv(self, source: int, channel: int, deadline: Deadline) -> bytes | bytearray:
        return self._mailbox.get((source, channel), deadline)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._send_lock:
            for sock in self._peers.values():
                sock.close()
            self._peers.clear()
        os.write(self._wake_w, b"x")
        self._thread.join()
        os.close(self._wake_r)
        os.close(self._wake_w)
        self._listener.close()
        try:
            os.unlink(self._path)
        except FileNotFoundError:
            pass

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
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                time.sleep(min(pause, deadline.check()))
                pause = min(pause * 2, 0.05)
                continue
            self._peers[dest] = sock
            return sock

    def _receive_loop(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ, None)
        selector.register(self._wake_r, selectors.EVENT_READ, self)
        try:
            while True:
                for key, _ in selector.select():
                    if key.data is self:
                        return
                    if key.data is None:
                        self._accept(selector)
                    elif not key.data.pump():
                        selector.unregister(key.fileobj)
                        key.fileobj.close()
        except Exception as exc:  # the worker must learn why its receives stopped
            self._mailbox.fail(exc)
        finally:
            for key in list(selector.get_map().values()):
                if key.data is not None and key.data is not self:
                    key.fileobj.close()
            selector.close()

    def _accept(self, selector: selectors.BaseSelector) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except BlockingIOError:
                return
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
            conn.setblocking(False)
            selector.register(conn, selectors.EVENT_READ, FrameReader(conn, self._mailbox.put))
