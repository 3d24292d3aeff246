"""What a pack's parent tells the rest of the burst: that its pack lives, and who failed in it.

The parent is the one process that sees every worker of its pack end, even a
worker killed by a signal. It posts each failure on the pack-local board (read
by pack-mates) and, in a multi-pack burst, on the board of the burst-wide
backend (read by the other packs), so their waits on that worker end at once.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable

from .backends import HEARTBEAT_EVERY_S, LocalBoard, StatusBoard, open_remote_board
from .spec import PackSpec

# A waiter's error quotes the reason of the worker it waited on, so a long chain of
# waiters would repeat every cause; keep the first hops and the root cause.
MAX_REASON = 1000


class PackNotices:
    """Every board this pack writes to, used best effort.

    A board that fails is dropped after printing why (into the activation's
    logs): posting notices must not cost the pack its answer, and its workers
    report an unreachable backend in their own envelopes anyway.
    """

    def __init__(self, spec: PackSpec, pack_dir: str) -> None:
        self._boards: list[StatusBoard] = [LocalBoard(pack_dir)]
        self._next_beat = time.monotonic()
        if len(spec.topology.groups) > 1:
            try:
                self._boards.append(open_remote_board(spec.middleware, spec.group_id))
            except Exception:
                traceback.print_exc()

    def started(self) -> None:
        self._each(lambda board: board.pack_started())
        self._next_beat = time.monotonic() + HEARTBEAT_EVERY_S

    def tick(self) -> float:
        """Send a heartbeat when one is due; return the seconds until the next one."""
        left = self._next_beat - time.monotonic()
        if left > 0:
            return left
        self._each(lambda board: board.heartbeat())
        self._next_beat = time.monotonic() + HEARTBEAT_EVERY_S
        return HEARTBEAT_EVERY_S

    def failed(self, worker: int, reason: str) -> None:
        if len(reason) > MAX_REASON:
            keep = MAX_REASON // 2
            reason = f"{reason[:keep]} [...] {reason[-keep:]}"
        self._each(lambda board: board.worker_failed(worker, reason))

    def finished(self) -> None:
        """Withdraw the pack's liveness marks and release the boards."""
        self._each(lambda board: board.pack_finished())
        self._each(lambda board: board.close())

    def _each(self, call: Callable[[StatusBoard], None]) -> None:
        for board in list(self._boards):
            try:
                call(board)
            except Exception:
                traceback.print_exc()
                self._boards.remove(board)
