"""Gives the experiment an OpenWhisk client: the embedded platform or a real cluster.

`platform=local` starts `python -m runner.platform` as a child process on a
random loopback port and stops it (and every action process) when the run
ends; `platform=openwhisk` reads the cluster's address and key from the config,
the environment or `~/.wskprops`. Either way the rest of the runner only sees
an `OpenWhiskClient`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from omegaconf import DictConfig

from runner.client.openwhisk import OpenWhiskClient
from runner.config import ConfigError, PlatformName
from runner.rundir.files import PLATFORM_LOG


class PlatformError(RuntimeError):
    pass


@dataclass(frozen=True)
class Connection:
    client: OpenWhiskClient
    description: str  # safe to record: no secrets


def read_wskprops() -> dict[str, str]:
    path = Path(os.environ.get("WSK_CONFIG_FILE") or Path.home() / ".wskprops")
    props: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                props[key.strip()] = value.strip()
    return props


def _drain(stream: IO[bytes], log: IO[bytes]) -> None:
    for line in stream:
        log.write(line)
        log.flush()


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM lets the platform kill its action processes; SIGKILL if it does not obey."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def embedded(run_dir: Path, invokers: int, slots: int, max_starting: int | None,
             startup_timeout_s: float, backend: str, backend_uri: str | None,
             pool_size: int) -> Iterator[Connection]:
    command = [sys.executable, "-m", "runner.platform", "--port", "0", "--exit-with-stdin",
               "--invokers", str(invokers), "--slots", str(slots), "--burst-backend", backend]
    if max_starting:
        command += ["--max-starting", str(max_starting)]
    if backend_uri:
        command += ["--backend-uri", backend_uri]
    log = (run_dir / PLATFORM_LOG).open("ab")
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
        start_new_session=True,  # Ctrl-C reaches the runner only; the runner stops the platform
    )
    log.write(f"platform pid {process.pid}\n".encode())
    log.flush()
    try:
        props = _read_props(process, startup_timeout_s)
        threading.Thread(target=_drain, args=(process.stdout, log), daemon=True).start()
        client = OpenWhiskClient(props["APIHOST"], props["AUTH"], pool_size=pool_size)
        try:
            yield Connection(client, f"embedded platform at {props['APIHOST']}")
        finally:
            client.close()
    finally:
        _stop(process)
        log.close()


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


@contextmanager
def cluster(api_host: str | None, auth: str | None, namespace: str, insecure: bool,
            ca_bundle: str | None, pool_size: int) -> Iterator[Connection]:
    props = read_wskprops()
    host = api_host or os.environ.get("__OW_API_HOST") or props.get("APIHOST")
    key = auth or os.environ.get("__OW_API_KEY") or props.get("AUTH")
    if not host:
        raise ConfigError("platform.api_host is not set (nor __OW_API_HOST, nor APIHOST in "
                          "~/.wskprops): set platform.api_host=https://host:port")
    if not key:
        raise ConfigError("platform.auth is not set (nor __OW_API_KEY, nor AUTH in "
                          "~/.wskprops): set platform.auth=uuid:key")
    namespace = os.environ.get("__OW_NAMESPACE", namespace) if namespace == "_" else namespace
    verify: bool | str = False if insecure else (ca_bundle or True)
    client = OpenWhiskClient(host, key, namespace, verify=verify, pool_size=pool_size)
    try:
        yield Connection(client, f"OpenWhisk at {host}, namespace {namespace}")
    finally:
        client.close()


def from_config(cfg: DictConfig, run_dir: Path) -> AbstractContextManager[Connection]:
    """The connection the config asks for."""
    platform = cfg.platform
    pool = cfg.invoke.concurrency + 1  # the invoking threads and the poller
    if platform.name == PlatformName.local:
        return embedded(
            run_dir, platform.invokers, platform.slots, platform.max_starting,
            platform.startup_timeout_s,
            cfg.burst.backend.value, cfg.burst.backend_uri, pool,
        )
    return cluster(platform.api_host, platform.auth, platform.namespace, platform.insecure,
                   platform.ca_bundle, pool)
