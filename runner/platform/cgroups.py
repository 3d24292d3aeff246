"""Memory cgroups: each container limited and watched the way a real OpenWhisk container is.

A container (one process group: a map action, or a pack launcher and its forked
workers) gets a memory cgroup of its own, limited to the container's memory
with swap capped, so that going over the limit means the kernel's OOM killer,
not swapping. A cgroup counts the memory the processes touch, not the address
space they reserve, so ``import numpy`` works at 128 MB (OpenBLAS reserves
tens of MB per CPU but touches little of it); and its OOM-kill counter says
exactly whether a process died for lack of memory, whatever its logs say.

The spawn trampoline moves the new process into its cgroup before it execs the
action (``spawn.py``), so the action's code never runs outside it. All of a
platform's cgroups live under one parent, ``burst-runner-<pid>``, at the root of
the memory hierarchy (beside the platform's own cgroup, as Docker places
containers beside its daemon, and where cgroup v2 allows a parent without
processes of its own). Each is removed once its processes are gone, the parent
at exit; at start, empty parents of platforms that died are removed.

Both cgroup versions, detected at start: v1 (a ``memory`` hierarchy:
``memory.limit_in_bytes``, ``memory.memsw.limit_in_bytes`` when swap is
accounted, ``oom_kill`` in ``memory.oom_control``) and v2 (``memory`` in
``cgroup.controllers``: ``memory.max``, ``memory.swap.max``, ``oom_kill`` in
``memory.events``). Without write access (not root, a read-only mount, no
memory controller) :func:`open_tree` raises :class:`Unavailable` and the
platform falls back on RLIMIT_DATA (``limits.py``).
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from runner.platform.spawn import SHELL

log = logging.getLogger(__name__)

# Where cgroup file systems are mounted. The variable exists for tests only: pointed at
# a missing or read-only directory it simulates a machine without usable cgroups.
ROOT_ENV = "BURST_RUNNER_CGROUP_ROOT"
DEFAULT_ROOT = Path("/sys/fs/cgroup")
PARENT_PREFIX = "burst-runner-"
_PARENT_NAME = re.compile(rf"{PARENT_PREFIX}(\d+)(?:-[0-9a-f]+)?")
_OOM_KILL = re.compile(rb"^oom_kill (\d+)$", re.MULTILINE)
_O_READ = os.O_RDONLY | os.O_CLOEXEC
_O_WRITE = os.O_WRONLY | os.O_CLOEXEC


class Unavailable(Exception):
    """This machine (or this user) cannot give containers memory cgroups; the reason."""


@dataclass(frozen=True)
class Version:
    """The files that differ between cgroup v1 and v2."""

    number: int
    limit: str  # takes the limit in bytes
    swap: str  # caps swap (may be absent: swap not accounted)
    events: str  # holds the ``oom_kill`` counter

    def swap_value(self, limit: int) -> int:
        """v1 limits memory plus swap together (so: the limit), v2 swap alone (so: none)."""
        return limit if self.number == 1 else 0


V1 = Version(1, "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.oom_control")
V2 = Version(2, "memory.max", "memory.swap.max", "memory.events")


def oom_kills(text: bytes) -> int:
    """The ``oom_kill`` counter of a ``memory.oom_control`` or ``memory.events`` file."""
    found = _OOM_KILL.search(text)
    if found is None:
        raise ValueError("no oom_kill counter")
    return int(found.group(1))


def _write(path: Path, text: str) -> None:
    fd = os.open(path, _O_WRITE)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _pids(directory: Path) -> list[int]:
    try:
        return [int(pid) for pid in (directory / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def _kill_all(directory: Path) -> None:
    """SIGKILL every process of a cgroup, also those outside the container's process group."""
    try:
        _write(directory / "cgroup.kill", "1")  # v2 on Linux 5.14+: one write, no pid races
        return
    except OSError:
        pass
    for pid in _pids(directory):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _rmdir(directory: Path) -> bool:
    """Remove a cgroup; False while processes are still in it."""
    try:
        os.rmdir(directory)
    except FileNotFoundError:
        return True
    except OSError as exc:
        if exc.errno in (errno.EBUSY, errno.ENOTEMPTY):
            return False
        raise
    return True


class Cgroup:
    """One container's cgroup: the trampoline writes the process into ``procs``."""

    def __init__(self, path: Path, version: Version) -> None:
        self.path = path
        self.procs = path / "cgroup.procs"
        # Kept open: re-reading it with pread costs ~1 us, opening it each time ~6 us.
        self._events: int | None = os.open(path / version.events, _O_READ)

    def oom_kills(self) -> int:
        """How many processes of this cgroup the OOM killer has ended so far.

        The kernel counts a kill before it sends the SIGKILL, so once a process is
        seen dead, its kill is already counted.
        """
        if self._events is None:
            return 0
        return oom_kills(os.pread(self._events, 4096, 0))

    def remove(self) -> bool:
        """Remove the cgroup once its processes are gone; until then SIGKILL them, False.

        Stragglers are processes of the container that left its process group
        (``setsid``), which ``killpg`` missed but the cgroup still holds.
        """
        if self._events is not None:
            os.close(self._events)
            self._events = None
        try:
            if _rmdir(self.path):
                return True
        except OSError as exc:  # not ours to fix, and not worth retrying forever
            log.warning("cannot remove the cgroup %s: %s", self.path, exc)
            return True
        _kill_all(self.path)
        return False


class CgroupTree:
    """The platform's parent cgroup, and a child for each container it starts."""

    def __init__(self, version: Version, parent: Path) -> None:
        self.version = version
        self.parent = parent
        self._names = itertools.count(1)
        # The parent has the swap file exactly when its children will (swap is accounted).
        self._swap = (parent / version.swap).exists()

    @property
    def description(self) -> str:
        return f"cgroup v{self.version.number} ({self.parent})"

    def create(self, limit_bytes: int) -> Cgroup:
        """A new cgroup limited to ``limit_bytes``, swap capped; raises OSError if it cannot.

        Costs the platform ~0.1 ms of CPU (a mkdir and two small writes).
        """
        path = self.parent / f"c{next(self._names)}"
        os.mkdir(path)
        try:
            _write(path / self.version.limit, str(limit_bytes))
            if self._swap:
                _write(path / self.version.swap, str(self.version.swap_value(limit_bytes)))
            return Cgroup(path, self.version)
        except OSError:
            _rmdir(path)
            raise

    def close(self, timeout_s: float = 5.0) -> None:
        """Kill what is left in the children, wait until they are empty, remove them all."""
        deadline = time.monotonic() + timeout_s
        children = _subdirs(self.parent)
        for child in children:
            _kill_all(child)
        delay = 0.001
        while True:
            try:
                children = [child for child in children if not _rmdir(child)]
                if not children and _rmdir(self.parent):
                    return
            except OSError as exc:
                log.warning("cannot remove the cgroups in %s: %s", self.parent, exc)
                return
            if time.monotonic() >= deadline:
                return  # a process stuck in the kernel: a later start removes the parent
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


def _subdirs(directory: Path) -> list[Path]:
    try:
        return [entry for entry in directory.iterdir() if entry.is_dir()]
    except OSError:
        return []


def _detect(root: Path) -> tuple[Version, Path]:
    """The cgroup version with a memory controller under ``root``, and where its tree starts."""
    controllers = root / "cgroup.controllers"
    if controllers.is_file():
        if "memory" not in controllers.read_text().split():
            raise Unavailable(f"the cgroup v2 hierarchy at {root} has no memory controller")
        return V2, root
    if (root / "memory" / V1.limit).is_file():
        return V1, root / "memory"
    raise Unavailable(f"no cgroup memory controller mounted at {root}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(base: Path) -> None:
    """Remove the empty parents (and empty children) of platforms whose pid is dead.

    Processes found there are left alone: they may belong to a platform of
    another pid namespace that shares this cgroup file system.
    """
    for parent in _subdirs(base):
        named = _PARENT_NAME.fullmatch(parent.name)
        if named is None or _alive(int(named.group(1))):
            continue
        try:
            for child in _subdirs(parent):
                _rmdir(child)
            _rmdir(parent)
        except OSError:
            pass


def _make_parent(base: Path, version: Version) -> Path:
    parent = base / f"{PARENT_PREFIX}{os.getpid()}"
    try:
        os.mkdir(parent)
    except FileExistsError:  # our pid, reused from a platform of another pid namespace
        parent = base / f"{PARENT_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        os.mkdir(parent)
    if version.number == 2:
        try:
            # The parent's children get memory files only if the parent hands the
            # controller down, which it may only do if its own parent handed it down.
            if "memory" not in (base / "cgroup.subtree_control").read_text().split():
                _write(base / "cgroup.subtree_control", "+memory")
            _write(parent / "cgroup.subtree_control", "+memory")
        except OSError:
            _rmdir(parent)
            raise
    return parent


def _probe(tree: CgroupTree) -> None:
    """Do once what every container start will do: create, limit, join from a shell, remove."""
    cgroup = tree.create(64 * 1024 * 1024)
    try:
        cgroup.oom_kills()
        joined = subprocess.run(
            [SHELL, "-c", 'echo $$ > "$1"', "sh", str(cgroup.procs)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        if joined.returncode != 0:
            raise Unavailable(f"cannot move a process into {cgroup.path}: {joined.stderr.strip()}")
    except ValueError as exc:
        raise Unavailable(f"{cgroup.path}: {exc} (a kernel before 4.13?)") from None
    finally:
        deadline = time.monotonic() + 2.0
        while not cgroup.remove() and time.monotonic() < deadline:
            time.sleep(0.001)


def open_tree(root: Path | None = None) -> CgroupTree:
    """The platform's parent cgroup, created and tested; raises Unavailable saying why not.

    ``root`` defaults to ``$BURST_RUNNER_CGROUP_ROOT``, else ``/sys/fs/cgroup``.
    """
    if root is None:
        root = Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)
    try:
        version, base = _detect(root)
        remove_leftovers(base)
        parent = _make_parent(base, version)
    except OSError as exc:
        raise Unavailable(f"cannot create a memory cgroup under {root}: {exc.strerror}") from None
    tree = CgroupTree(version, parent)
    try:
        _probe(tree)
    except OSError as exc:
        tree.close(1.0)
        raise Unavailable(f"cannot set up a memory cgroup in {parent}: {exc}") from None
    except Unavailable:
        tree.close(1.0)
        raise
    return tree
