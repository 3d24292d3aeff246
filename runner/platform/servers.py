"""Backend servers the platform starts for itself: zero set-up for ``--burst-backend``.

A backend that needs a server (Redis, RabbitMQ, S3) but is given no URI gets
a private one for the platform's lifetime: started on free loopback ports with
its state in a fresh directory, from the executables ``make test`` installs,
and stopped (its directory removed) when the platform stops. The tests start
their servers through the same code.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from runner.burst import catalog

# Where Debian installs what its rabbitmq-server wrapper (root only) runs as the rabbitmq user.
RABBITMQ_SCRIPTS = Path("/usr/lib/rabbitmq/bin")
SYSTEM_DIRS = ("/usr/sbin", "/sbin")
# A bucket the private S3 server starts with; burst objects go under per-burst prefixes.
S3_BUCKET = "burst"
S3_CREDENTIALS = "testing:testing"
START_TIMEOUT_S = {"redis": 10.0, "rabbitmq": 60.0, "s3": 30.0}


class ServerError(RuntimeError):
    """A server could not be started; the message says which and why."""


def find_executable(server: catalog.ServerKind) -> str | None:
    """The program that starts ``server``, or None when it is not installed."""
    if server is catalog.S3:  # moto in this Python, started through ``s3_server``
        installed = all(importlib.util.find_spec(name) for name in ("moto", "flask"))
        return sys.executable if installed else None
    path = os.pathsep.join([os.environ.get("PATH", ""), *SYSTEM_DIRS])
    return shutil.which(server.executable, path=path)


def missing(server: catalog.ServerKind) -> str | None:
    """One line saying what to install when ``server`` cannot be started here, else None."""
    if find_executable(server) is not None:
        return None
    return f"{server.executable} is not installed (run `{server.install}`)"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningServer:
    """One started server: where to reach it and how to stop it."""

    server: catalog.ServerKind
    uri: str
    port: int  # where it accepts connections once ready
    process: subprocess.Popen
    directory: Path
    stop_commands: list[list[str]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop the server's whole process group, then what it left running on its own."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for command in self.stop_commands:
            subprocess.run(command, env=self.env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=15, check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


def start(server: catalog.ServerKind) -> RunningServer:
    """Start a private ``server`` on free loopback ports; raise ServerError if it will not run."""
    executable = find_executable(server)
    if executable is None:
        raise ServerError(f"cannot start a {server.name} server: {missing(server)}")
    directory = Path(tempfile.mkdtemp(prefix=f"burst-{server.name}-"))
    try:
        running = _STARTERS[server.name](executable, directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    try:
        _wait_until_listening(running, START_TIMEOUT_S[server.name])
        if server is catalog.S3:
            _create_bucket(running.uri)
    except BaseException:
        running.stop()  # removes the directory too
        raise
    return running


@contextlib.contextmanager
def started(server: catalog.ServerKind) -> Iterator[RunningServer]:
    """A private ``server`` for the length of a ``with`` block."""
    running = start(server)
    try:
        yield running
    finally:
        running.stop()


def _spawn(command: list[str], directory: Path, **options) -> subprocess.Popen:
    log = (directory / "server.log").open("ab")
    with log:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, **options)


def _redis(executable: str, directory: Path) -> RunningServer:
    port = free_port()
    command = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(directory)]
    process = _spawn(command, directory)
    return RunningServer(catalog.REDIS, f"redis://127.0.0.1:{port}", port, process, directory)


def _s3(executable: str, directory: Path) -> RunningServer:
    port = free_port()
    command = [executable, "-m", "runner.platform.s3_server", "-H", "127.0.0.1", "-p", str(port)]
    uri = f"s3://{S3_CREDENTIALS}@{S3_BUCKET}?endpoint=http://127.0.0.1:{port}"
    process = _spawn(command, directory, cwd=directory)
    return RunningServer(catalog.S3, uri, port, process, directory)


def _rabbitmq(executable: str, directory: Path) -> RunningServer:
    """A private RabbitMQ node: its own node name, ports, data, logs and Erlang cookie.

    As root, Debian's wrapper would switch to the rabbitmq user with ``su``; the
    node is started here as that user directly, in a directory it owns.
    """
    script = RABBITMQ_SCRIPTS / "rabbitmq-server"
    if script.exists():
        executable = str(script)
    port, dist_port, epmd_port = free_port(), free_port(), free_port()
    node = f"burst{port}@localhost"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(directory),
        "RABBITMQ_NODENAME": node,
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "ERL_EPMD_PORT": str(epmd_port),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "RABBITMQ_MNESIA_BASE": str(directory / "mnesia"),
        "RABBITMQ_LOG_BASE": str(directory / "log"),
        "RABBITMQ_FEATURE_FLAGS_FILE": str(directory / "feature_flags"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(directory / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(directory / "pid"),
    }
    options: dict = {"env": env, "cwd": directory}
    if os.geteuid() == 0:
        account = pwd.getpwnam("rabbitmq")
        os.chown(directory, account.pw_uid, account.pw_gid)
        options.update(user=account.pw_uid, group=account.pw_gid, extra_groups=[])
    process = _spawn([executable], directory, **options)
    epmd = shutil.which("epmd", path=env["PATH"] + os.pathsep + "/usr/lib/erlang/bin")
    return RunningServer(
        catalog.RABBITMQ, f"amqp://guest:guest@127.0.0.1:{port}/%2F", port, process, directory,
        stop_commands=[[epmd, "-kill"]] if epmd else [], env=env,
    )


_STARTERS = {"redis": _redis, "rabbitmq": _rabbitmq, "s3": _s3}


def _wait_until_listening(running: RunningServer, timeout_s: float) -> None:
    port = running.port
    deadline = time.monotonic() + timeout_s
    while True:
        code = running.process.poll()
        if code is not None:
            log = (running.directory / "server.log").read_text(errors="replace")[-400:]
            raise ServerError(f"{running.server.executable} exited at start (code {code}): {log}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{running.server.executable} did not listen within {timeout_s:.0f} s"
                ) from None
            time.sleep(0.05)


def _create_bucket(uri: str) -> None:
    """moto accepts unsigned requests: a plain PUT makes the bucket, without boto3."""
    import urllib.request  # here: the config check imports this module, and rarely needs S3

    endpoint = uri.partition("endpoint=")[2]
    request = urllib.request.Request(f"{endpoint}/{S3_BUCKET}", method="PUT")
    with urllib.request.urlopen(request, timeout=10):
        pass
