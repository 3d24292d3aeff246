"""One worker's life inside its forked process: connect, run ``main``, report an envelope."""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from .backends import LocalBackend, open_remote
from .deadline import Deadline
from .errors import describe
from .handle import BurstHandle
from .spec import PackSpec
from .transport import Transport

BurstMain = Callable[[Any, BurstHandle], Any]


def now_ms() -> int:
    return int(time.time() * 1000)


def open_transport(
    spec: PackSpec, worker: int, pack_dir: str, deadline: Deadline, segments_from: int | None
) -> Transport:
    """Pack-mates meet in ``pack_dir``; other packs are reached through the burst's backend.

    ``segments_from``: the payload size from which pack-mates exchange shared-memory
    segments instead of streaming the bytes (None: never).
    """
    topology = spec.topology
    local = LocalBackend(
        pack_dir, worker, backlog=len(spec.worker_ids), segments_from=segments_from
    )
    remote = None
    if len(topology.groups) > 1:
        try:
            remote = open_remote(spec.middleware, worker, topology)
        except BaseException:
            local.close()
            raise
    return Transport(topology, worker, deadline, local, remote)


def run_worker(
    spec: PackSpec,
    worker: int,
    params: Any,
    main: BurstMain,
    pack_dir: str,
    deadline: Deadline,
    report: Callable[[dict[str, Any]], None],
    released: Callable[[], None] = lambda: None,
    segments_from: int | None = None,
) -> None:
    """Run ``main(params, handle)`` and ``report`` a start record, then the final envelope.

    The transport opens before ``released`` returns (the pack's start barrier),
    so pack-mates released together begin ``main`` together rather than one
    transport set-up apart; ``start_ms`` is taken after the release. The start
    record lets the parent give a truthful ``start_ms`` even if this process
    dies before it can send its envelope.
    """
    start = end = now_ms()
    result: Any = None
    error: str | None = None
    transport: Transport | None = None
    try:
        transport = open_transport(spec, worker, pack_dir, deadline, segments_from)
        handle = BurstHandle(transport)
        released()
        start = now_ms()
        report({"start_ms": start})
        try:
            result = main(params, handle)
        finally:
            end = now_ms()
        if not isinstance(result, dict):
            error = f"main must return a dict, got {type(result).__name__}"
            result = None
    except BaseException as exc:  # the envelope, not a dead process, must tell the story
        traceback.print_exc()
        error = describe(exc)
    finally:
        if transport is not None:
            transport.close()
    envelope = {"worker_id": worker, "start_ms": start, "end_ms": end, "result": result}
    try:
        report({**envelope, "error": error})
    except (TypeError, ValueError) as exc:  # raised by the encoder, before anything is written
        report({**envelope, "result": None, "error": f"result is not JSON serializable: {exc}"})


def pipe_reporter(fd: int) -> Callable[[dict[str, Any]], None]:
    """Report records as JSON lines on a pipe to the pack's parent process.

    The whole record is encoded before the first byte is written, so an
    unserialisable result raises without leaving half a line on the pipe.
    """

    def report(record: dict[str, Any]) -> None:
        data = memoryview((json.dumps(record) + "\n").encode())
        while data:
            data = data[os.write(fd, data) :]

    return report


def flush_stdio() -> None:
    """Logs must reach the platform before answers, and a fork must not duplicate buffers."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
