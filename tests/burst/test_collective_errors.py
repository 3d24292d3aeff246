"""What the collectives promise beyond their answers: the messages they cost, and the
errors a worker gets for a wrong call (runner/burst/collectives.py).

Workers are threads here, each with a Link over in-memory FIFO queues that count
every message, so a collective that sends one message too many shows up at once
(tests/burst/test_burst_collectives.py checks the answers on real packs).
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import pytest

from runner.burst import collectives
from runner.burst.topology import Topology

WAIT_S = 30


class Deadlock(AssertionError):
    """Every running worker waits for a message nobody will send: the collective hangs."""


class Network:
    """Per-pair FIFO channels between the workers of one topology, counting messages.

    A hang is found as it happens, not after a timeout: a receive fails at once
    when every running worker is waiting on an empty channel.
    """

    def __init__(self, groups: list[tuple[int, int]]):
        self.topology = Topology({f"g{i}": r for i, r in enumerate(groups)})
        self.channels: dict[tuple[int, int], deque] = defaultdict(deque)
        self.sent: list[tuple[int, int]] = []
        self.changed = threading.Condition()
        self.running = 0
        self.awaiting: dict[int, tuple[int, int]] = {}  # worker: the channel it waits on

    def crossing(self) -> int:
        """Messages between workers of different groups: the remote backend's traffic."""
        group = self.topology.group_of
        return sum(1 for a, b in self.sent if group(a) != group(b))

    def stuck(self) -> bool:
        return len(self.awaiting) >= self.running and not any(
            self.channels[key] for key in self.awaiting.values())


class Link:
    def __init__(self, network: Network, me: int):
        self.network, self.me, self.topology = network, me, network.topology

    def send(self, dest: int, data: Any) -> None:
        assert dest != self.me, "a worker never sends to itself"
        with self.network.changed:
            self.network.sent.append((self.me, dest))
            self.network.channels[(self.me, dest)].append(data)
            self.network.changed.notify_all()

    def recv(self, source: int) -> Any:
        network, key = self.network, (source, self.me)
        with network.changed:
            network.awaiting[self.me] = key
            try:
                while not network.channels[key]:
                    if network.stuck():
                        network.changed.notify_all()
                        raise Deadlock(f"worker {self.me} waits for {source} forever")
                    if not network.changed.wait(timeout=WAIT_S):
                        raise TimeoutError(f"worker {self.me} waited {WAIT_S} s for {source}")
                return network.channels[key].popleft()
            finally:
                del network.awaiting[self.me]


def run(groups: list[tuple[int, int]],
        work: Callable[[Link], Any]) -> tuple[list[Any], Network]:
    """Every worker's return value, and the network they used (left empty: no stray message)."""
    network = Network(groups)
    size = network.topology.size
    results: list[Any] = [None] * size
    errors: list[BaseException] = []
    network.running = size

    def worker(me: int) -> None:
        try:
            results[me] = work(Link(network, me))
        except BaseException as error:  # reported by the test's thread
            errors.append(error)
        finally:
            with network.changed:
                network.running -= 1
                network.changed.notify_all()

    threads = [threading.Thread(target=worker, args=(me,), daemon=True) for me in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # every receive ends: a message, a deadlock or WAIT_S
    if errors:
        raise errors[0]
    assert not any(network.channels.values()), "messages left unread"
    return results, network


SHAPES = {
    "one group": [(0, 4)],
    "uneven groups": [(0, 2), (3, 3), (4, 8), (9, 10)],
    "single workers": [(w, w) for w in range(6)],
}


@pytest.mark.parametrize("groups", SHAPES.values(), ids=SHAPES.keys())
def test_broadcast_costs_one_message_per_worker_and_one_per_other_group(groups) -> None:
    size, count = groups[-1][1] + 1, len(groups)
    for root in {0, 1 % size, size - 1}:
        results, network = run(groups, lambda link, root=root: collectives.broadcast(
            link, f"from {root}" if link.me == root else None, root))
        assert results == [f"from {root}"] * size
        assert len(network.sent) == size - 1
        assert network.crossing() == count - 1


def _concat(left: str, right: str) -> str:
    return left + right


@pytest.mark.parametrize("groups", SHAPES.values(), ids=SHAPES.keys())
def test_reduce_combines_in_id_order_with_one_message_per_worker(groups) -> None:
    size, count = groups[-1][1] + 1, len(groups)
    expected = "".join(chr(97 + w) for w in range(size))
    for root in {0, size - 1, size // 2}:
        results, network = run(groups, lambda link, root=root: collectives.reduce(
            link, chr(97 + link.me), _concat, root))
        assert results == [expected if w == root else None for w in range(size)]
        # one more hop from worker 0 to another root
        assert len(network.sent) == size - 1 + (root != 0)
        assert network.crossing() == count - 1 + (
            root != 0 and network.topology.group_of(root) != network.topology.group_of(0))


def test_allreduce_and_barrier_leave_every_worker_with_the_same_answer() -> None:
    groups = SHAPES["uneven groups"]
    results, network = run(groups, lambda link: collectives.allreduce(link, link.me, max))
    assert results == [10] * 11
    assert len(network.sent) == 2 * 10
    results, network = run(groups, collectives.barrier)
    assert results == [None] * 11 and len(network.sent) == 2 * 10


def test_gather_scatter_and_all_to_all_go_straight_between_workers() -> None:
    groups = SHAPES["uneven groups"]
    results, network = run(groups, lambda link: collectives.gather(link, link.me * 10, 3))
    assert results == [list(range(0, 110, 10)) if w == 3 else None for w in range(11)]
    assert sorted(network.sent) == [(w, 3) for w in range(11) if w != 3]

    chunks = [f"to {w}" for w in range(11)]
    results, network = run(groups, lambda link: collectives.scatter(
        link, chunks if link.me == 4 else None, 4))
    assert results == chunks
    assert sorted(network.sent) == [(4, w) for w in range(11) if w != 4]

    results, network = run(groups, lambda link: collectives.all_to_all(
        link, [(link.me, dest) for dest in range(11)]))
    assert results == [[(source, me) for source in range(11)] for me in range(11)]
    assert len(network.sent) == 11 * 10


def test_all_to_all_sends_to_the_next_worker_first() -> None:
    """Staggered: worker i's first message goes to i+1, so no receiver is flooded at once."""
    groups = [(0, 4)]
    network = Network(groups)
    link = Link(network, 2)
    for source in range(5):  # what the others would have sent worker 2
        if source != 2:
            network.channels[(source, 2)].append(source)
    received = collectives.all_to_all(link, ["a", "b", "c", "d", "e"])
    assert received == [0, 1, "c", 3, 4]
    assert network.sent == [(2, 3), (2, 4), (2, 0), (2, 1)]


def test_a_wrong_number_of_chunks_is_the_callers_error_with_the_counts() -> None:
    link = Link(Network([(0, 2)]), 0)
    for chunks in (["a", "b"], ["a", "b", "c", "d"]):
        with pytest.raises(ValueError, match=rf"^scatter root needs 3 chunks, got {len(chunks)}$"):
            collectives.scatter(link, chunks, 0)
    with pytest.raises(ValueError, match=r"^scatter root needs 3 chunks, got None$"):
        collectives.scatter(link, None, 0)
    for chunks in (["a", "b", "c", "d"], ["a", "b"]):
        with pytest.raises(ValueError, match=r"^all_to_all needs 3 chunks \(one per "
                                             rf"destination\), got {len(chunks)}$"):
            collectives.all_to_all(link, chunks)
    assert link.network.sent == [], "nothing was sent before the check"


def test_bursts_of_more_than_256_workers_reach_every_root() -> None:
    """Past 256, ids and counts are ints that Python does not share: equal, not identical."""
    size = 400
    groups = [(first, first + 99) for first in range(0, size, 100)]  # a leader at 300
    root = int("399")
    results, network = run(groups, lambda link: collectives.reduce(link, 1, int.__add__, root))
    assert results == [size if w == root else None for w in range(size)]
    assert len(network.sent) == size
    results, network = run(groups, lambda link: collectives.broadcast(
        link, "hi" if link.me == root else None, root))
    assert results == ["hi"] * size and network.crossing() == len(groups) - 1
    results, network = run(groups, lambda link: collectives.gather(link, link.me, root))
    assert results == [list(range(size)) if w == root else None for w in range(size)]
    chunks = [str(w) for w in range(size)]
    link = Link(Network(groups), size - 1)  # the root's own id: equal to root, not the same int
    assert collectives.scatter(link, chunks, root) == "399"
    assert len(link.network.sent) == size - 1
    for source in range(size - 1):  # what the others send the root in an all_to_all
        link.network.channels[(source, root)].append(source)
    assert collectives.all_to_all(link, chunks) == [*range(size - 1), "399"]
