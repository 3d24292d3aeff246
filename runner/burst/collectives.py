"""Collective operations built only on point-to-point send/recv.

Broadcast and reduce are two-level: first among one leader per group (the
traffic that crosses the remote backend, kept to one message per tree edge),
then inside each group over the fast pack-local path; gather, scatter and
all-to-all send directly between workers. Trees are binomial, so any worker
count works, not only powers of two. Reductions combine contiguous id
ranges in id order, so ``op`` only needs to be associative, not commutative.

All workers must call the same collectives in the same order (as in MPI):
per-pair FIFO order on the collective channel then keeps rounds apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .topology import Topology

ReduceOp = Callable[[Any, Any], Any]


class Link(Protocol):
    """What collectives need: this worker's place, and sends/receives on the collective channel."""

    topology: Topology
    me: int

    def send(self, dest: int, data: Any) -> None: ...

    def recv(self, source: int) -> Any: ...


def broadcast(link: Link, data: Any, root: int) -> Any:
    topo = link.topology
    root_group = topo.group_of(root)
    leaders = [root if g == root_group else topo.leader(g) for g in topo.groups]
    my_group = topo.group_of(link.me)
    my_leader = leaders[topo.groups.index(my_group)]
    if link.me == my_leader:
        data = _tree_broadcast(link, data, leaders, topo.groups.index(root_group))
    members = list(topo.members(my_group))
    return _tree_broadcast(link, data, members, members.index(my_leader))


def reduce(link: Link, data: Any, op: ReduceOp, root: int) -> Any:
    topo = link.topology
    my_group = topo.group_of(link.me)
    partial = _tree_reduce(link, data, op, list(topo.members(my_group)))
    if link.me == topo.leader(my_group):
        partial = _tree_reduce(link, partial, op, [topo.leader(g) for g in topo.groups])
    # Order-preserving trees end at worker 0; one more hop reaches another root.
    if root == 0:
        return partial if link.me == 0 else None
    if link.me == 0:
        link.send(root, partial)
    return link.recv(0) if link.me == root else None


def allreduce(link: Link, data: Any, op: ReduceOp) -> Any:
    return broadcast(link, reduce(link, data, op, 0), 0)


def gather(link: Link, data: Any, root: int) -> list[Any] | None:
    if link.me != root:
        link.send(root, data)
        return None
    size = link.topology.size
    return [data if w == root else link.recv(w) for w in range(size)]


def scatter(link: Link, chunks: Sequence[Any] | None, root: int) -> Any:
    if link.me != root:
        return link.recv(root)
    size = link.topology.size
    if chunks is None or len(chunks) != size:
        got = "None" if chunks is None else str(len(chunks))
        raise ValueError(f"scatter root needs {size} chunks, got {got}")
    for dest in range(size):
        if dest != root:
            link.send(dest, chunks[dest])
    return chunks[root]


def all_to_all(link: Link, chunks: Sequence[Any]) -> list[Any]:
    size, me = link.topology.size, link.me
    if len(chunks) != size:
        raise ValueError(f"all_to_all needs {size} chunks (one per destination), got {len(chunks)}")
    # Staggered order: worker i sends to i+1 first, so no single receiver is flooded.
    for step in range(1, size):
        dest = (me + step) % size
        link.send(dest, chunks[dest])
    received: list[Any] = [None] * size
    received[me] = chunks[me]
    for step in range(1, size):
        source = (me - step) % size
        received[source] = link.recv(source)
    return received


def barrier(link: Link) -> None:
    broadcast(link, reduce(link, b"", _keep_left, 0), 0)


def _keep_left(left: Any, _right: Any) -> Any:
    return left


def _tree_broadcast(link: Link, data: Any, nodes: list[int], root_index: int) -> Any:
    """Binomial-tree broadcast among ``nodes`` (this worker included) from ``nodes[root_index]``."""
    count = len(nodes)
    rel = (nodes.index(link.me) - root_index) % count
    mask = 1
    while mask < count:
        if rel & mask:
            data = link.recv(nodes[(rel - mask + root_index) % count])
            break
        mask <<= 1
    mask >>= 1
    while mask:
        if rel + mask < count:
            link.send(nodes[(rel + mask + root_index) % count], data)
        mask >>= 1
    return data


def _tree_reduce(link: Link, data: Any, op: ReduceOp, nodes: list[int]) -> Any:
    """Order-preserving binomial reduction among ``nodes``; the result ends at ``nodes[0]``.

    At distance ``step``, node ``i`` (a multiple of ``2*step``) folds in node
    ``i+step``, whose partial covers the ids right after its own: ranges stay
    contiguous and in order. Returns None on every node but ``nodes[0]``.
    """
    if link.me not in nodes:
        return None
    index = nodes.index(link.me)
    step = 1
    while step < len(nodes):
        if index % (2 * step):
            link.send(nodes[index - step], data)
            return None
        if index + step < len(nodes):
            data = op(data, link.recv(nodes[index + step]))
        step *= 2
    return data
