"""The contract every message backend fulfils, so collectives never depend on a transport."""

from __future__ import annotations

from abc import ABC, abstractmethod

from ..deadline import Deadline


class Backend(ABC):
    """Moves opaque messages from this worker to another one.

    Guarantees a backend must give: messages from one source to one
    destination on one channel arrive whole and in the order they were sent;
    ``recv`` blocks until such a message exists or raises ``DeadlineExpired``
    when ``deadline`` passes; ``send`` raises ``PeerGone`` when the peer is
    known to be gone. Backends know worker ids only; naming groups in errors
    is the transport's job.
    """

    @abstractmethod
    def send(self, dest: int, channel: int, payload: memoryview, deadline: Deadline) -> None:
        """Deliver ``payload`` (a flat byte view, not kept after return) to ``dest``."""

    @abstractmethod
    def recv(self, source: int, channel: int, deadline: Deadline) -> bytes | bytearray:
        """Return the oldest undelivered message from ``source`` on ``channel``."""

    @abstractmethod
    def close(self) -> None:
        """Release sockets, threads and connections; safe to call twice."""
