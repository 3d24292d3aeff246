"""RabbitMQ backend: one queue per (burst, source, destination, channel), through pika.

A message is one AMQP message when it fits one chunk (``0x00`` + payload), else
a header message (``0x01`` + chunk count, little-endian uint64) followed by its
chunks, all published in order on one channel, so they arrive in that order in
the one queue only this sender writes to. Without ``chunk_size`` messages are
cut at 64 MiB, under RabbitMQ's default limit of 128 MiB. A receiver consumes
each queue it reads from (no acks: the queue is its alone) and buffers what
arrives; when it closes it deletes every queue other packs could have written
to it, so a finished burst leaves no queues. Queues also expire after an hour
unused, in case a burst fails.

The board: ``failed.<worker>`` is a queue holding the reason; ``started.<group>``
exists while the pack runs; ``alive.<group>`` is an exclusive queue of the pack's
parent, which the broker deletes the moment that process's connection drops, so
a killed pack needs no heartbeats to be noticed. Probes of queues that may not
exist run on a channel of their own, reopened after each "not found".
"""

from __future__ import annotations

import struct
import time
from collections import deque
from typing import Any

import pika
from pika.exceptions import ChannelClosedByBroker

from ..buffers import Received
from ..deadline import Deadline
from ..errors import BurstError, PeerGone
from ..spec import MiddlewareSpec
from ..topology import Topology
from .base import Backend, StatusBoard

INLINE = b"\x00"
CHUNKED = b"\x01"
COUNT = struct.Struct("<Q")
MAX_MESSAGE = 64 << 20
QUEUE_ARGUMENTS = {"x-expires": 3_600_000}
WATCH_EVERY_S = 0.2
NOT_FOUND = 404
LOCKED = 405  # the queue exists, exclusive to another connection
KILLED = "died (its pack's connection to RabbitMQ dropped)"
CHANNELS = (0, 1)


def open_backend(spec: MiddlewareSpec, worker_id: int, topology: Topology) -> Backend:
    return RabbitMQBackend(spec, worker_id, topology)


def open_board(spec: MiddlewareSpec, group: str) -> StatusBoard:
    return RabbitMQBoard(spec, group)


def _connect(spec: MiddlewareSpec) -> Any:
    if not spec.uri or not spec.uri.startswith(("amqp://", "amqps://")):
        raise BurstError("the RabbitMQ backend needs backend_info.uri, e.g. amqp://host:5672")
    parameters = pika.URLParameters(spec.uri)
    parameters.heartbeat = 0  # a busy worker must not lose its connection between calls
    return pika.BlockingConnection(parameters)


class _Names:
    def __init__(self, burst_id: str) -> None:
        self.prefix = f"burst.{burst_id}"

    def messages(self, source: int, dest: int, channel: int) -> str:
        return f"{self.prefix}.{source}.{dest}.{channel}"

    def failed(self, worker: int) -> str:
        return f"{self.prefix}.failed.{worker}"

    def started(self, group: str) -> str:
        return f"{self.prefix}.started.{group}"

    def alive(self, group: str) -> str:
        return f"{self.prefix}.alive.{group}"


class _Prober:
    """Asks whether queues exist, on a channel that a "not found" may close."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._channel = connection.channel()

    def messages(self, queue: str) -> int | None:
        """How many messages ``queue`` holds, or None when there is no such queue.

        Another connection's exclusive queue cannot be inspected: it counts as empty.
        """
        try:
            return self._channel.queue_declare(queue, passive=True).method.message_count
        except ChannelClosedByBroker as exc:
            if exc.reply_code not in (NOT_FOUND, LOCKED):
                raise
            self._channel = self._connection.channel()
            return None if exc.reply_code == NOT_FOUND else 0

    def peek(self, queue: str) -> bytes | None:
        """The first message of ``queue``, left in it for other readers."""
        method, _, body = self._channel.basic_get(queue, auto_ack=False)
        if method is None:
            return None
        self._channel.basic_nack(method.delivery_tag, requeue=True)
        return body


def read_board(prober: _Prober, names: _Names, group: str, source: int) -> str | None:
    """Why ``source`` will never send again, or None while it may (or has yet to start)."""
    if prober.messages(names.failed(source)):
        reason = prober.peek(names.failed(source))
        if reason is not None:
            return reason.decode(errors="replace")
    started = names.started(group)
    if prober.messages(started) is None or prober.messages(names.alive(group)) is not None:
        return None
    # A pack makes ``alive`` before ``started`` and removes ``started`` before ``alive``: one
    # still started after its ``alive`` was seen gone was killed, not finished meanwhile.
    return KILLED if prober.messages(started) is not None else None


class RabbitMQBackend(Backend):
    """Messages through RabbitMQ queues (this module is the only one importing pika)."""

    def __init__(self, spec: MiddlewareSpec, worker_id: int, topology: Topology) -> None:
        self._connection = _connect(spec)
        self._channel = self._connection.channel()
        self._prober = _Prober(self._connection)
        self._names = _Names(spec.burst_id)
        self._topology = topology
        self._me = worker_id
        chunk = spec.chunk_size_kb * 1024 if spec.chunk_size_kb else MAX_MESSAGE
        self._chunk = min(chunk, MAX_MESSAGE)
        self._declared: set[str] = set()
        self._inbox: dict[str, deque[bytes]] = {}  # per consumed queue: what arrived

    def send(self, dest: int, channel: int, payload: memoryview, deadline: Deadline) -> None:
        queue = self._names.messages(self._me, dest, channel)
        self._declare(queue)
        size = len(payload)
        if size <= self._chunk:
            self._publish(queue, INLINE + payload)
            return
        starts = range(0, size, self._chunk)
        self._publish(queue, CHUNKED + COUNT.pack(len(starts)))
        for at in starts:
            self._publish(queue, bytes(payload[at : at + self._chunk]))

    def recv(self, source: int, channel: int, deadline: Deadline) -> Received:
        queue = self._names.messages(source, self._me, channel)
        inbox = self._consume(queue)
        next_watch = time.monotonic() + WATCH_EVERY_S
        while True:
            message = self._take(source, inbox)
            if message is not None:
                return message
            if time.monotonic() >= next_watch:
                next_watch = time.monotonic() + WATCH_EVERY_S
                group = self._topology.group_of(source)
                reason = read_board(self._prober, self._names, group, source)
                if reason is not None:
                    # What it published before it ended is on its way: one more pump gets it.
                    self._connection.process_data_events(time_limit=0)
                    message = self._take(source, inbox)
                    if message is not None:
                        return message
                    raise PeerGone(reason)
            left = deadline.check()
            # Returns as soon as a delivery arrived, else after the slice.
            self._connection.process_data_events(time_limit=min(left, WATCH_EVERY_S))

    def close(self) -> None:
        if not self._connection.is_open:
            return
        try:
            mine = self._topology.group_of(self._me)
            for source in range(self._topology.size):
                if self._topology.group_of(source) == mine:
                    continue
                for channel in CHANNELS:
                    self._channel.queue_delete(self._names.messages(source, self._me, channel))
        finally:
            self._connection.close()

    def _declare(self, queue: str) -> None:
        if queue not in self._declared:
            self._channel.queue_declare(queue, arguments=QUEUE_ARGUMENTS)
            self._declared.add(queue)

    def _publish(self, queue: str, body: bytes) -> None:
        self._channel.basic_publish(exchange="", routing_key=queue, body=body)

    def _consume(self, queue: str) -> deque[bytes]:
        inbox = self._inbox.get(queue)
        if inbox is None:
            self._declare(queue)
            inbox = self._inbox[queue] = deque()
            self._channel.basic_consume(
                queue, lambda _ch, _method, _props, body: inbox.append(body), auto_ack=True
            )
        return inbox

    def _take(self, source: int, inbox: deque[bytes]) -> bytes | None:
        """The oldest whole message in ``inbox``, or None while its chunks are still coming."""
        if not inbox:
            return None
        head = inbox[0]
        if head[:1] == INLINE:
            inbox.popleft()
            return head[1:]
        if head[:1] != CHUNKED:
            raise BurstError(f"message from worker {source} is not in this backend's format")
        (count,) = COUNT.unpack_from(head, 1)
        if len(inbox) < 1 + count:
            return None
        inbox.popleft()
        chunks = [inbox.popleft() for _ in range(count)]
        return chunks[0] if count == 1 else b"".join(chunks)


class RabbitMQBoard(StatusBoard):
    """A pack's liveness (an exclusive queue of its parent) and its workers' failures."""

    def __init__(self, spec: MiddlewareSpec, group: str) -> None:
        self._connection = _connect(spec)
        self._channel = self._connection.channel()
        self._names = _Names(spec.burst_id)
        self._group = group

    def pack_started(self) -> None:
        # In this order, and the reverse at the end, which ``read_board`` relies on.
        self._channel.queue_declare(self._names.alive(self._group), exclusive=True)
        self._channel.queue_declare(self._names.started(self._group), arguments=QUEUE_ARGUMENTS)

    def heartbeat(self) -> None:
        # The broker sees the parent's connection drop; only keep the connection serviced.
        self._connection.process_data_events(time_limit=0)

    def worker_failed(self, worker: int, reason: str) -> None:
        queue = self._names.failed(worker)
        self._channel.queue_declare(queue, arguments=QUEUE_ARGUMENTS)
        self._channel.basic_publish(exchange="", routing_key=queue, body=reason.encode())

    def pack_finished(self) -> None:
        # In this order, which ``read_board`` relies on.
        self._channel.queue_delete(self._names.started(self._group))
        self._channel.queue_delete(self._names.alive(self._group))

    def close(self) -> None:
        if self._connection.is_open:
            self._connection.close()
