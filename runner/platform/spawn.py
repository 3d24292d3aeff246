"""Starting action processes cheaply, and reaping them ourselves.

``subprocess`` can only renumber a pipe onto fd 3 from a ``preexec_fn``, which
forces a real ``fork()`` of the whole platform: measured on a 40 MB process,
~1.6 ms of CPU and ~10 ms with the event loop blocked per start. ``posix_spawn``
(vfork underneath) places fds 0-3 and starts a new session without copying our
memory (~0.1 ms of platform CPU); a tiny ``/bin/sh`` trampoline then does what
``posix_spawn`` cannot, ``cd``, ``ulimit`` and joining the container's memory
cgroup (``echo $$ > cgroup.procs``, so the action's code never runs outside it),
and execs the action, which keeps the pid (~0.7 ms of CPU in the child, not in
the platform).
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

SHELL = "/bin/sh"
# $1 = working directory, $2 = data limit in KB ("" = none), $3 = the cgroup.procs file
# of the container's cgroup ("" = none), the rest = the command.
_TRAMPOLINE = (
    'cd "$1" || exit 127; [ -z "$2" ] || ulimit -d "$2" || exit 127; '
    '[ -z "$3" ] || echo $$ > "$3" || exit 127; shift 3; exec "$@"'
)
# Python ignores SIGPIPE (and SIGXFSZ); an ignored signal stays ignored across exec.
_DEFAULT_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ)
_FIRST_FREE_FD = 10


class Process:
    """A child started by :func:`spawn`; ``returncode`` is set once reaped (-N: signal N)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """Reap the child if it ended; its exit status, or None while it runs."""
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -signal.SIGKILL  # reaped elsewhere: it is gone
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout_s: float) -> int | None:
        """Poll until the child ends or ``timeout_s`` passed (only used at shutdown)."""
        deadline = time.monotonic() + timeout_s
        delay = 0.001
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return self.returncode

    @property
    def alive(self) -> bool:
        """Whether the child still runs, checked without reaping it.

        An unreaped child keeps its pid, so a later ``killpg`` can never hit a
        stranger that reused the number.
        """
        if self.returncode is not None:
            return False
        try:
            ended = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False
        return ended is None


def _above_stdio(fd: int) -> int:
    """``fd``, or a copy of it if it sits where the child's fds 0-3 go (dup2 would clobber it)."""
    return fd if fd > 3 else fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _FIRST_FREE_FD)


def spawn(
    command: Sequence[str],
    cwd: Path,
    env: dict[str, str],
    fds: Sequence[int],
    data_limit_kb: int | None,
    cgroup_procs: Path | None = None,
) -> Process:
    """Start ``command`` in ``cwd`` as a session leader with ``fds`` as its fds 0, 1, 2, 3.

    ``fds`` must be close-on-exec (Python's default), as must every other
    descriptor of ours, so the child gets exactly fds 0-3. The caller still owns
    and closes ``fds``. ``data_limit_kb`` becomes the child's RLIMIT_DATA; the child
    writes itself into ``cgroup_procs`` (a cgroup's ``cgroup.procs``) before it execs.
    Raises OSError if the shell cannot be started; a command that cannot run
    makes the shell exit 126 or 127 with the reason on stderr.
    """
    safe = [_above_stdio(fd) for fd in fds]
    try:
        actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(safe)]
        limit = "" if data_limit_kb is None else str(data_limit_kb)
        cgroup = "" if cgroup_procs is None else str(cgroup_procs)
        argv = [SHELL, "-c", _TRAMPOLINE, "sh", str(cwd), limit, cgroup, *command]
        pid = os.posix_spawn(
            SHELL, argv, env, file_actions=actions, setsid=True, setsigdef=_DEFAULT_SIGNALS
        )
    finally:
        for original, fd in zip(fds, safe, strict=True):
            if fd != original:
                os.close(fd)
    return Process(pid)
