"""The contracts every backend fulfils, so collectives never depend on a transport."""

from __future__ import annotations

from abc import ABC, abstractmethod

from ..buffers import Received
from ..deadline import Deadline

# How often a pack's parent proves its pack alive on boards that need it.
HEARTBEAT_EVERY_S = 0.5


class Backend(ABC):
    """Moves opaque messages from this worker to another one.

    Guarantees a backend must give: messages from one source to one
    destination on one channel arrive whole and in the order they were sent;
    ``recv`` blocks until such a message exists, raises ``PeerGone`` once the
    source is known to have failed or died with no message from it left, and
    ``DeadlineExpired`` when ``deadline`` passes; ``send`` raises ``PeerGone``
    when the peer is known to be gone. Backends know worker ids only; naming
    groups in errors is the transport's job.
    """

    @abstractmethod
    def send(self, dest: int, channel: int, payload: memoryview, deadline: Deadline) -> None:
        """Deliver ``payload`` (a flat byte view, not kept after return) to ``dest``."""

    @abstractmethod
    def recv(self, source: int, channel: int, deadline: Deadline) -> Received:
        """Return the oldest undelivered message from ``source`` on ``channel``."""

    @abstractmethod
    def close(self) -> None:
        """Release sockets, threads and connections; safe to call twice."""


class StatusBoard(ABC):
    """Where a pack's parent process posts what its workers cannot say themselves.

    A worker that raised has closed its links and one that was killed never
    will: only the parent, which sees each child end, can tell the peers still
    waiting on it. Backends read the board their peers' packs write to, so a
    wait on a failed worker ends within a fraction of a second instead of at
    the deadline. Liveness marks let peers tell a pack killed as a whole (whose
    parent posts nothing) from one that has yet to start.
    """

    @abstractmethod
    def pack_started(self) -> None:
        """Mark the pack's workers as running, before any of them starts."""

    @abstractmethod
    def heartbeat(self) -> None:
        """Prove the pack still lives; the parent calls this every ``HEARTBEAT_EVERY_S``."""

    @abstractmethod
    def worker_failed(self, worker: int, reason: str) -> None:
        """Post that ``worker`` will never send again, and why ("died (exit code 7)")."""

    @abstractmethod
    def pack_finished(self) -> None:
        """Withdraw the liveness marks of a pack whose workers have all ended."""

    @abstractmethod
    def close(self) -> None:
        """Release the board's connection, if it has one."""
