"""Route each message of one worker through the pack-local path or the burst-wide backend."""

from __future__ import annotations

from typing import Any

from .backends.base import Backend
from .buffers import Received, byte_view
from .deadline import Deadline
from .errors import BurstPeerError, BurstTimeoutError, DeadlineExpired, PeerGone
from .topology import Topology

# Point-to-point and collective traffic never share a queue, so a user's
# pending send can never be mistaken for a round of a collective.
P2P_CHANNEL = 0
COLLECTIVE_CHANNEL = 1


class Transport:
    """Send/receive for worker ``me``; pack-mates go through ``local``, others through ``remote``.

    Backend signals surface here naming the peer and its group, which is what a
    user needs to find the worker that failed: ``BurstPeerError`` ("worker 3
    (group 1) failed: ValueError: boom") when the peer is known to be gone,
    ``BurstTimeoutError`` when it simply never answered before the deadline.
    """

    def __init__(
        self,
        topology: Topology,
        me: int,
        deadline: Deadline,
        local: Backend,
        remote: Backend | None,
    ) -> None:
        self.topology = topology
        self.me = me
        self.deadline = deadline
        self._local = local
        self._remote = remote
        self._group = topology.group_of(me)

    def send(self, dest: int, channel: int, data: Any) -> None:
        backend = self._backend(dest)
        try:
            backend.send(dest, channel, byte_view(data), self.deadline)
        except DeadlineExpired:
            raise BurstTimeoutError(f"timed out sending to {self._name(dest)}") from None
        except PeerGone as exc:
            raise BurstPeerError(f"{self._name(dest)} {exc}") from None

    def recv(self, source: int, channel: int) -> Received:
        backend = self._backend(source)
        try:
            return backend.recv(source, channel, self.deadline)
        except DeadlineExpired:
            raise BurstTimeoutError(f"timed out waiting for {self._name(source)}") from None
        except PeerGone as exc:
            raise BurstPeerError(f"{self._name(source)} {exc}") from None

    def close(self) -> None:
        self._local.close()
        if self._remote is not None:
            self._remote.close()

    def _backend(self, peer: int) -> Backend:
        if not 0 <= peer < self.topology.size:
            raise ValueError(f"worker {peer} is not in this burst (size {self.topology.size})")
        if self._remote is None or self.topology.group_of(peer) == self._group:
            return self._local
        return self._remote

    def _name(self, worker: int) -> str:
        return f"worker {worker} (group {self.topology.group_of(worker)})"
