"""The ``burst`` object handed to ``main(args, burst)``: identity, messaging and collectives."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import collectives
from .buffers import Received
from .collectives import ReduceOp
from .topology import Topology
from .transport import COLLECTIVE_CHANNEL, P2P_CHANNEL, Transport


class _CollectiveLink:
    """The transport seen through the collective channel only."""

    def __init__(self, transport: Transport) -> None:
        self.topology = transport.topology
        self.me = transport.me
        self._transport = transport

    def send(self, dest: int, data: Any) -> None:
        self._transport.send(dest, COLLECTIVE_CHANNEL, data)

    def recv(self, source: int) -> Received:
        return self._transport.recv(source, COLLECTIVE_CHANNEL)


class BurstHandle:
    """One worker's view of its burst, mirroring the Rust burst middleware's handle.

    Payloads are any bytes-like object (bytes, bytearray, memoryview, numpy
    arrays through the buffer protocol). Received payloads are bytes, bytearray
    or (a big message from a pack-mate) a writable memoryview of shared memory,
    all ready for ``numpy.frombuffer``. Every blocking call gives up at
    the activation's deadline with ``BurstTimeoutError`` naming the peer it
    waited for. Collectives must be called by all workers in the same order.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._link = _CollectiveLink(transport)
        topology: Topology = transport.topology
        self.worker_id: int = transport.me
        self.burst_size: int = topology.size
        self.group_id: str = topology.group_of(transport.me)
        self.group_ranges: dict[str, tuple[int, int]] = dict(topology.ranges)

    def __repr__(self) -> str:
        return (
            f"BurstHandle(worker_id={self.worker_id}, burst_size={self.burst_size}, "
            f"group_id={self.group_id!r})"
        )

    def send(self, dest: int, data: Any) -> None:
        """Send ``data`` to worker ``dest``; messages to one peer arrive in send order."""
        self._transport.send(dest, P2P_CHANNEL, data)

    def recv(self, source: int) -> Received:
        """Receive the next message that worker ``source`` sent to this worker."""
        return self._transport.recv(source, P2P_CHANNEL)

    def broadcast(self, data: Any = None, root: int = 0) -> Any:
        """Every worker returns the root's ``data`` (others pass None)."""
        return collectives.broadcast(self._link, data, root)

    def gather(self, data: Any, root: int = 0) -> list[Any] | None:
        """The root gets everyone's ``data`` in worker order; the others get None."""
        return collectives.gather(self._link, data, root)

    def scatter(self, chunks: Sequence[Any] | None = None, root: int = 0) -> Any:
        """The root passes ``burst_size`` chunks; worker i returns chunk i."""
        return collectives.scatter(self._link, chunks, root)

    def all_to_all(self, chunks: Sequence[Any]) -> list[Any]:
        """Chunk i goes to worker i; returns what each worker sent here, in sender order."""
        return collectives.all_to_all(self._link, chunks)

    def reduce(self, data: Any, op: ReduceOp, root: int = 0) -> Any:
        """Fold everyone's ``data`` in worker order with the associative ``op``; root gets it."""
        return collectives.reduce(self._link, data, op, root)

    def allreduce(self, data: Any, op: ReduceOp) -> Any:
        """Like ``reduce``, but every worker gets the result."""
        return collectives.allreduce(self._link, data, op)

    def barrier(self) -> None:
        """Return only once every worker of the burst has entered the barrier."""
        collectives.barrier(self._link)
