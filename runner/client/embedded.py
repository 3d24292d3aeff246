"""The embedded platform as the runner uses it: started, connected to, kept or stopped.

`python -m runner.platform` runs as a child process on a random loopback port
in its own session (Ctrl-C reaches the runner only, which then stops the
platform and with it every action process; `--exit-with-stdin` ends it if the
runner dies). A single run stops it when the run ends. A sweep keeps it for its
next job when the platform's options are the same, which saves the platform's
start on every job; so that each job still starts cold, as on a fresh
platform, the experiment deletes its action before deploying it
(`Connection.kept`), which retires the action's warm containers.

A platform started early (runner/client/early.py) is the first one used.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from runner.client import early
from runner.client.early import PlatformProcess
from runner.client.openwhisk import OpenWhiskClient, notice_on_stderr
from runner.rundir.files import PLATFORM_LOG


class PlatformError(RuntimeError):
    pass


@dataclass(frozen=True)
class Connection:
    client: OpenWhiskClient
    description: str  # safe to record: no secrets
    kept: bool = False  # the platform served earlier runs: start this one with no warm containers


_kept: dict[tuple[str, ...], PlatformProcess] = {}


def command(invokers: int, slots: int, max_starting: int | None, backend: str,
            backend_uri: str | None) -> list[str]:
    """The platform's settings as arguments: runs with equal ones can share a platform."""
    line = ["--invokers", str(invokers), "--slots", str(slots), "--burst-backend", backend]
    if max_starting:
        line += ["--max-starting", str(max_starting)]
    if backend_uri:
        line += ["--backend-uri", backend_uri]
    return line


def _start(line: list[str], run_dir: Path, startup_timeout_s: float) -> PlatformProcess:
    platform = early.take(line) or early.spawn(line)
    platform.log.switch(run_dir / PLATFORM_LOG)
    try:
        props = _read_props(platform.process, startup_timeout_s)
    except BaseException:
        platform.stop()
        raise
    assert platform.process.stdout is not None
    threading.Thread(target=platform.log.drain, args=(platform.process.stdout,),
                     daemon=True).start()
    platform.api_host, platform.auth = props["APIHOST"], props["AUTH"]
    return platform


@contextmanager
def connect(run_dir: Path, line: list[str], startup_timeout_s: float, pool_size: int,
            keep: bool) -> Iterator[Connection]:
    """A client of a platform started for this run, or of the one kept from the last."""
    key = tuple(line)
    platform = _kept.pop(key, None) if keep else None
    if platform is not None and platform.process.poll() is not None:
        platform.log.close()  # it died between runs: start another
        platform = None
    if platform is None:
        platform = _start(line, run_dir, startup_timeout_s)
    else:
        platform.log.switch(run_dir / PLATFORM_LOG)
        platform.log.write(f"platform pid {platform.process.pid} (kept from an earlier "
                           f"run of this process)\n".encode())
    client = OpenWhiskClient(platform.api_host, platform.auth, pool_size=pool_size,
                             notify=notice_on_stderr)
    try:
        yield Connection(client, f"embedded platform at {platform.api_host}",
                         kept=platform.served > 0)
    finally:
        client.close()
        platform.served += 1
        if keep and platform.process.poll() is None:
            _kept[key] = platform
        else:
            platform.stop()


def stop_kept() -> None:
    """Stops every platform kept for a next run or started early: when the runner ends."""
    while _kept:
        _kept.popitem()[1].stop()
    early.stop()


def _read_props(process: subprocess.Popen, timeout_s: float) -> dict[str, str]:
    props: dict[str, str] = {}

    def read() -> None:
        assert process.stdout is not None
        while len(props) < 2:
            line = process.stdout.readline().decode()
            if not line:
                return
            key, _, value = line.strip().partition("=")
            props[key] = value

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout_s)
    if "APIHOST" in props and "AUTH" in props:
        return props
    code = process.poll()
    if code is not None:
        raise PlatformError(f"embedded platform exited at start (code {code}); see platform.log")
    raise PlatformError(
        f"embedded platform did not start within {timeout_s:.0f} s; see platform.log"
    )
