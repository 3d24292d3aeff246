"""Run the workers of one pack concurrently, one forked process each, and collect their envelopes.

Processes, not threads: Python workers are usually CPU-bound and the GIL
would serialise them (see the fork-vs-threads numbers in the report). Each
child writes JSON lines on its own pipe; the parent multiplexes the pipes, so a
worker that dies or hangs costs only its own envelope. The parent sees each
child end the moment its pipe closes and posts any failure (``PackNotices``),
so peers waiting on that worker stop at once instead of at the deadline.

Forking is serial, so each worker opens its transport and then waits at a
start barrier (``_StartGate``) until the last of them is forked: released
together, they begin ``main`` together, instead of one fork apart while the
first ones' ``main`` already competes with the forking loop for the cores
(32 hello workers on 2 cores: start spread ~40-70 ms before, ~10-15 ms with it).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import selectors
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .backends import preload
from .deadline import Deadline
from .notices import PackNotices
from .spec import PackSpec
from .worker import BurstMain, flush_stdio, now_ms, pipe_reporter, run_worker

PR_SET_PDEATHSIG = 1
# Communication gives up this much before the platform's deadline (at most), so
# workers can still report who they were waiting for.
MAX_DEADLINE_MARGIN_S = 1.0
# A memory file system, where a pack's sockets and notices go when the system has one.
MEMORY_DIR = "/dev/shm"
PACK_DIR_PREFIX = "burst-pack-"
# Pack-mates hand payloads of this size and more over as shared-memory segments, when the
# pack directory is in memory; below it the socket is as fast (bench/packs.py).
SEGMENTS_FROM = 1 << 20

Prctl = Callable[..., int]


@dataclass(frozen=True)
class _Fork:
    """What every child of one pack gets, fixed once before the first fork."""

    spec: PackSpec
    main: BurstMain
    pack_dir: str
    deadline: Deadline
    close_fds: tuple[int, ...]
    parent: int
    prctl: Prctl | None
    gate: _StartGate
    segments_from: int | None


@dataclass
class _Child:
    worker: int
    pid: int
    fd: int
    data: bytearray = field(default_factory=bytearray)
    status: int | None = None
    envelope: dict[str, Any] | None = None


def comm_deadline(deadline_ms: float) -> Deadline:
    """Receives end a little before the activation does: 10% of the time left, at most 1 s."""
    left = deadline_ms / 1000 - time.time()
    margin = min(MAX_DEADLINE_MARGIN_S, max(left, 0.0) * 0.1)
    return Deadline(deadline_ms / 1000 - margin)


def run_pack(
    spec: PackSpec, main: BurstMain, child_close_fds: Iterable[int] = ()
) -> list[dict[str, Any]]:
    """Fork one process per worker of the pack; return their envelopes in worker-id order.

    ``child_close_fds`` are closed in every child (the launcher's answer pipe),
    so only the launcher can answer the platform.
    """
    deadline = comm_deadline(spec.middleware.deadline_ms)
    _raise_fd_limit()
    if len(spec.topology.groups) > 1:
        preload(spec.middleware)
    pack_dir = _make_pack_dir()
    notices = PackNotices(spec, pack_dir)
    gate = _StartGate()
    in_memory = pack_dir.startswith(MEMORY_DIR + os.sep)
    fork = _Fork(
        spec, main, pack_dir, deadline, tuple(child_close_fds), os.getpid(), _find_prctl(), gate,
        SEGMENTS_FROM if in_memory else None,
    )
    children: list[_Child] = []
    try:
        notices.started()
        for worker, params in zip(spec.worker_ids, spec.params, strict=True):
            children.append(_spawn(fork, worker, params))
            notices.tick()  # forking a big pack can outlast a heartbeat's lifetime
        gate.release()  # every worker is forked: all begin ``main`` now
        # Stop halfway between the workers' deadline and the platform's: a worker still
        # running then is killed and reported, and the pack answers before the platform
        # kills it, so its pack-mates' envelopes (who waited on whom) are not lost with it.
        _collect(children, (deadline.at + spec.middleware.deadline_ms / 1000) / 2, notices)
        return [child.envelope or _ended(child)[0] for child in children]
    finally:
        for child in children:
            if child.status is None:
                _kill(child)
            if child.fd >= 0:
                os.close(child.fd)
        gate.release()  # after the kills: if forking failed, no waiting child ever starts
        notices.finished()
        shutil.rmtree(pack_dir, ignore_errors=True)


def _make_pack_dir() -> str:
    """A fresh directory for the pack's sockets and failure notices, in memory if possible.

    Each worker binds, renames and unlinks its socket there before it starts; on
    a disk file system each is a journaled metadata update (ext4: ~0.1 ms more
    per worker than tmpfs, with tails near 1 ms), all of it before the release.
    """
    prefix = f"{PACK_DIR_PREFIX}{os.getpid()}-"
    try:
        _remove_orphaned_pack_dirs(MEMORY_DIR)
        return tempfile.mkdtemp(prefix=prefix, dir=MEMORY_DIR)
    except OSError:  # no /dev/shm (not Linux, or a bare container): the usual temp dir
        return tempfile.mkdtemp(prefix=prefix)


def _remove_orphaned_pack_dirs(parent: str) -> None:
    """Removes the directories of launchers that were killed before they could.

    A launcher the platform SIGKILLs (a time limit, a crash) leaves its directory
    behind, in memory; its name carries the launcher's pid, so the next pack can
    tell that nobody uses it any more.
    """
    for entry in os.scandir(parent):
        owner = entry.name.removeprefix(PACK_DIR_PREFIX).partition("-")[0]
        if entry.name.startswith(PACK_DIR_PREFIX) and owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _raise_fd_limit() -> None:
    """A worker may hold two sockets per peer (one each way): lift the soft fd limit to the hard."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass  # an unlimited hard limit may exceed the kernel's cap: keep the soft one


class _StartGate:
    """The pack's start barrier: a pipe whose write end only the parent keeps.

    A waiting child sleeps in ``read`` and takes no CPU from the forking loop.
    Closing the write end wakes every waiter at once (end of file, where bytes
    written would wake them one after another), and so does the parent's
    death, which the children then notice as their own check of their parent.
    """

    def __init__(self) -> None:
        self._read_fd, self._write_fd = os.pipe()

    def forked(self) -> None:
        """In a new child, first thing: only the parent may hold its pack-mates back."""
        os.close(self._write_fd)

    def wait(self, parent: int) -> None:
        """In a child: return once the parent released the pack; end the child if it died."""
        os.read(self._read_fd, 1)
        os.close(self._read_fd)
        if os.getppid() != parent:
            os._exit(1)

    def release(self) -> None:
        """In the parent: children forked so far start now, and later ones would not wait."""
        for fd in (self._write_fd, self._read_fd):
            if fd >= 0:
                os.close(fd)
        self._read_fd = self._write_fd = -1


def _spawn(fork: _Fork, worker: int, params: Any) -> _Child:
    read_fd, write_fd = os.pipe()
    flush_stdio()
    pid = os.fork()
    if pid == 0:  # child: never returns into the launcher's loop
        code = 1
        try:
            fork.gate.forked()
            os.close(read_fd)
            _enter_child(fork.parent, fork.close_fds, fork.prctl)
            run_worker(
                fork.spec, worker, params, fork.main, fork.pack_dir, fork.deadline,
                pipe_reporter(write_fd), lambda: fork.gate.wait(fork.parent), fork.segments_from,
            )
            code = 0
        finally:
            flush_stdio()
            os._exit(code)
    os.close(write_fd)
    return _Child(worker=worker, pid=pid, fd=read_fd)


def _enter_child(parent: int, close_fds: tuple[int, ...], prctl: Prctl | None) -> None:
    """Cut the worker loose from what belongs to the launcher, but not from its life.

    Activation lines on stdin and the answer fd are the launcher's alone; and a
    worker must not outlive a launcher that the platform killed (Linux only).
    """
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    # The launcher's answer fd is pointed at /dev/null rather than closed, so a worker that
    # writes to fd 3 (as a map action may) cannot hit a socket that reused the number.
    sink = os.open(os.devnull, os.O_WRONLY)
    for fd in close_fds:
        os.dup2(sink, fd)
    os.close(sink)


def _find_prctl() -> Prctl | None:
    """libc's ``prctl``, looked up in the parent so that every child inherits it.

    Looked up in each child (dlopen, dlsym, first call), it cost ~0.2 ms of CPU
    per worker, taken from the forking loop on a small machine.
    """
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None  # not Linux: orphans still stop at their deadline


def _collect(children: list[_Child], kill_at: float, notices: PackNotices) -> None:
    """Read each child's pipe to EOF, reap it and post its failure; stop at ``kill_at``.

    Heartbeats go out between reads, so other packs can tell this pack lives.
    """
    selector = selectors.DefaultSelector()
    for child in children:
        selector.register(child.fd, selectors.EVENT_READ, child)
    try:
        while selector.get_map():
            left = kill_at - time.time()
            if left <= 0:
                break
            for key, _ in selector.select(min(left, notices.tick())):
                child = key.data
                chunk = os.read(child.fd, 1 << 16)
                if chunk:
                    child.data += chunk
                    continue
                selector.unregister(child.fd)
                _, child.status = os.waitpid(child.pid, 0)
                child.envelope, failure = _ended(child)
                if failure is not None:
                    notices.failed(child.worker, failure)
    finally:
        selector.close()
        for child in children:
            os.close(child.fd)
            child.fd = -1


def _kill(child: _Child) -> None:
    try:
        os.kill(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _, child.status = os.waitpid(child.pid, 0)


def _ended(child: _Child) -> tuple[dict[str, Any], str | None]:
    """The child's envelope, and how it failed as its peers should hear it (None if it did not).

    A child that died or hung gets an envelope written for it, saying so.
    """
    records = []
    for line in child.data.decode(errors="replace").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    if records and "worker_id" in records[-1]:
        error = records[-1].get("error")
        return records[-1], (f"failed: {error}" if error else None)
    start = records[0]["start_ms"] if records else now_ms()
    signum = None
    timed_out = child.status is None
    if timed_out:
        _kill(child)
        how = "killed: still running at the deadline"
    else:
        how = f"died ({_exit_reason(child.status)})"
        if os.WIFSIGNALED(child.status):
            signum = os.WTERMSIG(child.status)
    envelope = {
        "worker_id": child.worker,
        "start_ms": start,
        "end_ms": now_ms(),
        "result": None,
        "error": f"worker {child.worker} {how}",
    }
    if signum is not None:  # the platform tells an OOM kill (SIGKILL) from other deaths by it
        envelope["signal"] = signum
    if timed_out:  # as OpenWhisk reports an action at its time limit
        envelope.update(status="action developer error", timed_out=True)
    return envelope, how


def _exit_reason(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"signal {-code}, {signal.Signals(-code).name}"
    except ValueError:
        return f"signal {-code}"
