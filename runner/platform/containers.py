"""Action processes ("containers") and the warm pool that reuses them.

A container is one long-lived process running the action's ``exec`` in its own
process group: one JSON line per activation on stdin, one JSON answer line on
fd 3, stdout/stderr as logs (DESIGN.md section 5). The pool keeps finished
containers warm for later activations of the same action version, limits how
many processes cold-start at once, and evicts the least recently used idle
process when the process budget is full.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from runner.platform.pipes import ActivationLogs, LineChannel, LineWriter, LogCapture

RESULT_FD = 3
# How long a process that closed fd 3 gets to finish exiting before it is killed.
_EXIT_GRACE_S = 2.0


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class WarmKey:
    """Containers with equal keys are interchangeable; role separates map from pack use."""

    path: str
    version: str
    role: str


@dataclass(frozen=True)
class ContainerSpec:
    """How to start a process for one action version."""

    key: WarmKey
    code_dir: Path
    wait_for_ack: bool
    init_timeout_ms: int


@dataclass
class Outcome:
    """What came back from one activation: an answer line, a timeout, or a dead process."""

    answer: bytes | None
    timed_out: bool = False
    exit_note: str = ""


class StartError(Exception):
    """The process could not be started or did not acknowledge its start."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.timed_out = timed_out


def _describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "it closed its result channel but kept running"
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def _result_fd_setup(write_fd: int) -> None:
    """Runs in the child between fork and exec: put the answer pipe on fd 3.

    subprocess cannot renumber descriptors by itself; dup2 is async-signal-safe
    and this function touches no locks, so it is safe despite our threads.
    """
    os.dup2(write_fd, RESULT_FD)
    os.set_inheritable(RESULT_FD, True)


class Container:
    """One running ``exec`` process and its pipes."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        key: WarmKey,
        stdin: LineWriter,
        channel: LineChannel,
        stdout: LogCapture,
        stderr: LogCapture,
    ) -> None:
        self.proc = proc
        self.key = key
        self.retired = False
        self.idle_since = 0.0
        self._killed = False
        self._stdin = stdin
        self._channel = channel
        self._logs = (stdout, stderr)

    @classmethod
    def start(cls, spec: ContainerSpec, env: dict[str, str]) -> Container:
        """Spawn ``exec`` in a new session (so its process group can be killed as one).

        Synchronous on purpose: no await between spawning and handing the container
        to the pool, so a shutdown can never miss a process.
        """
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        res_r, res_w = os.pipe()
        try:
            proc = subprocess.Popen(
                [str(spec.code_dir / "exec")],
                cwd=spec.code_dir,
                env=env,
                stdin=in_r,
                stdout=out_w,
                stderr=err_w,
                # Our own descriptors are all close-on-exec (PEP 446), so nothing
                # leaks; keeping them avoids closing fd 3 after the preexec dup2.
                close_fds=False,
                preexec_fn=lambda: _result_fd_setup(res_w),
                start_new_session=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            for fd in (in_w, out_r, err_r, res_r):
                os.close(fd)
            raise StartError(f"The action failed to start: {exc}") from exc
        finally:
            for fd in (in_r, out_w, err_w, res_w):
                os.close(fd)
        stdout, stderr = LogCapture(out_r, "stdout"), LogCapture(err_r, "stderr")
        return cls(proc, spec.key, LineWriter(in_w), LineChannel(res_r), stdout, stderr)

    async def await_ack(self, timeout_ms: int, logs: ActivationLogs) -> None:
        """Wait for ``{"ok": true}`` on fd 3 (``__OW_WAIT_FOR_ACK``); output goes to ``logs``.

        Raises StartError when the ack does not come; the caller discards the container.
        """
        self._attach(logs)
        try:
            line = await asyncio.wait_for(self._channel.next_line(), timeout_ms / 1000)
        except asyncio.TimeoutError:
            self._detach()
            raise StartError(
                f"The action exceeded its time limits of {timeout_ms} milliseconds "
                "during initialization.",
                timed_out=True,
            ) from None
        self._detach()
        if line is None:
            note = await self._exit_note()
            raise StartError(f"The action exited before acknowledging its start ({note}).")
        try:
            ack = json.loads(line)
        except ValueError:
            ack = None
        if not isinstance(ack, dict) or ack.get("ok") is not True:
            shown = line[:200].decode("utf-8", "replace")
            raise StartError(f'The action answered "{shown}" instead of {{"ok": true}}.')

    def _attach(self, logs: ActivationLogs) -> None:
        for capture in self._logs:
            capture.drain()  # output from while it was idle belongs to no activation
            capture.flush_partial()
            capture.sink = logs

    def _detach(self) -> None:
        for capture in self._logs:
            capture.drain()
            capture.flush_partial()
            capture.sink = None

    async def run(self, payload: bytes, timeout_ms: int, logs: ActivationLogs) -> Outcome:
        """Send one activation line and wait for the answer on fd 3, at most ``timeout_ms``."""
        self._channel.discard_pending()
        self._attach(logs)
        self._stdin.write(payload)
        try:
            line = await asyncio.wait_for(self._channel.next_line(), timeout_ms / 1000)
        except asyncio.TimeoutError:
            self.kill()
            return Outcome(None, timed_out=True)
        finally:
            self._detach()
        if line is None:
            return Outcome(None, exit_note=await self._exit_note())
        return Outcome(line)

    async def _exit_note(self) -> str:
        """After fd 3 closed: give the process a moment to exit, then say how it ended."""
        deadline = time.monotonic() + _EXIT_GRACE_S
        delay = 0.001
        while self.alive and time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)
        self.kill()  # its children too; then reaping tells how the process itself ended
        return _describe_exit(self.proc.poll())

    @property
    def alive(self) -> bool:
        """Whether the process still runs, checked without reaping it.

        An unreaped process keeps its pid, so a later ``killpg`` can never hit a
        stranger that reused the number.
        """
        if self.proc.returncode is not None:
            return False
        try:
            ended = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False
        return ended is None

    def kill(self) -> None:
        """Kill the whole process group (the action's children too) and close our pipe ends."""
        if self._killed:
            return
        self._killed = True
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._stdin.close()
        self._channel.close()
        for capture in self._logs:
            capture.drain()  # what it wrote before dying still belongs to the activation
            capture.flush_partial()
            capture.close()


class ContainerPool:
    """Warm reuse, cold-start limiting and the process budget."""

    def __init__(self, env: dict[str, str], max_starting: int, max_processes: int) -> None:
        self._env = env
        self._start_slots = asyncio.Semaphore(max_starting)
        self._max_processes = max_processes
        self._idle: dict[WarmKey, list[Container]] = {}
        self._busy: set[Container] = set()
        self._dying: list[subprocess.Popen[bytes]] = []
        self._closed = False

    async def acquire(
        self, spec: ContainerSpec, logs: ActivationLogs
    ) -> tuple[Container, int | None]:
        """A container for ``spec`` plus its init time in ms (None when it was warm).

        Raises StartError when a cold start fails.
        """
        self._reap()
        warm = self._take_idle(spec.key)
        if warm is None:
            async with self._start_slots:
                # Someone may have finished while we waited for a start slot.
                warm = self._take_idle(spec.key)
                if warm is None:
                    if self._closed:
                        raise StartError("The platform is shutting down.")
                    return await self._cold_start(spec, logs)
        return warm, None

    async def _cold_start(self, spec: ContainerSpec, logs: ActivationLogs) -> tuple[Container, int]:
        self._make_room()
        env = dict(self._env)
        if spec.wait_for_ack:
            env["__OW_WAIT_FOR_ACK"] = "true"
        begin = now_ms()
        container = Container.start(spec, env)
        self._busy.add(container)
        if spec.wait_for_ack:
            try:
                await container.await_ack(spec.init_timeout_ms, logs)
            except StartError:
                self.release(container, reusable=False)
                raise
        return container, now_ms() - begin

    def _take_idle(self, key: WarmKey) -> Container | None:
        stack = self._idle.get(key)
        while stack:
            container = stack.pop()  # the most recently used is the warmest
            if container.alive:
                self._busy.add(container)
                return container
            self._discard(container)
        return None

    def _make_room(self) -> None:
        """Evict least recently used idle processes while the budget is exhausted."""
        while self._count() >= self._max_processes:
            stacks = [s for s in self._idle.values() if s]
            if not stacks:
                return
            oldest = min(stacks, key=lambda s: s[0].idle_since)
            self._discard(oldest.pop(0))

    def _count(self) -> int:
        idle = sum(len(s) for s in self._idle.values())
        return idle + len(self._busy)

    def release(self, container: Container, reusable: bool) -> None:
        """Return a container after an activation; unusable or retired ones are killed."""
        self._busy.discard(container)
        if reusable and not container.retired and container.alive:
            container.idle_since = time.monotonic()
            self._idle.setdefault(container.key, []).append(container)
        else:
            self._discard(container)
        self._reap()

    def retire(self, path: str) -> None:
        """The action changed or was deleted: its warm processes must not serve again."""
        for key in [k for k in self._idle if k.path == path]:
            for container in self._idle.pop(key):
                self._discard(container)
        for container in self._busy:
            if container.key.path == path:
                container.retired = True

    def _discard(self, container: Container) -> None:
        container.kill()
        self._dying.append(container.proc)

    def _reap(self) -> None:
        """Collect exit statuses of killed processes so no zombies pile up."""
        self._dying = [proc for proc in self._dying if proc.poll() is None]

    def shutdown(self) -> None:
        """Kill every process group we started and wait (briefly) until they are gone."""
        self._closed = True
        for stack in self._idle.values():
            for container in stack:
                self._discard(container)
        self._idle.clear()
        for container in list(self._busy):
            self._discard(container)
        self._busy.clear()
        deadline = time.monotonic() + 5.0
        for proc in self._dying:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        self._dying.clear()
