"""Gives the experiment an OpenWhisk client: the embedded platform or a real cluster.

`platform=local` starts the embedded platform (runner/client/embedded.py);
`platform=openwhisk` reads the cluster's address and key from the config,
the environment or `~/.wskprops`. Either way the rest of the runner only sees
an `OpenWhiskClient`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from omegaconf import DictConfig

from runner.client import embedded
from runner.client.embedded import Connection
from runner.client.openwhisk import OpenWhiskClient, notice_on_stderr
from runner.config import ConfigError, Mode, PlatformName
from runner.config.checks import check_api_host


def read_wskprops() -> dict[str, str]:
    path = Path(os.environ.get("WSK_CONFIG_FILE") or Path.home() / ".wskprops")
    props: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                props[key.strip()] = value.strip()
    return props


@contextmanager
def cluster(api_host: str | None, auth: str | None, namespace: str, insecure: bool,
            ca_bundle: str | None, pool_size: int,
            missing_key: str | None = None) -> Iterator[Connection]:
    """A client for the cluster at `api_host` (else the environment's, else ~/.wskprops');
    `missing_key` replaces the message given when no key is found anywhere."""
    props = read_wskprops()
    hosts = [("platform.api_host", api_host, None),
             ("__OW_API_HOST", os.environ.get("__OW_API_HOST"), "https"),
             ("APIHOST in ~/.wskprops", props.get("APIHOST"), "https")]
    source = next(((key, value, scheme) for key, value, scheme in hosts if value), None)
    if source is None:
        raise ConfigError("platform.api_host is not set (nor __OW_API_HOST, nor APIHOST in "
                          "~/.wskprops): set platform.api_host=https://host:port")
    host = check_api_host(*source)
    key = auth or os.environ.get("__OW_API_KEY") or props.get("AUTH")
    if not key:
        raise ConfigError(missing_key or "platform.auth is not set (nor __OW_API_KEY, nor AUTH "
                          "in ~/.wskprops): set platform.auth=uuid:key")
    namespace = os.environ.get("__OW_NAMESPACE", namespace) if namespace == "_" else namespace
    verify: bool | str = False if insecure else (ca_bundle or True)
    client = OpenWhiskClient(host, key, namespace, verify=verify, pool_size=pool_size,
                             notify=notice_on_stderr)
    try:
        yield Connection(client, f"OpenWhisk at {host}, namespace {namespace}")
    finally:
        client.close()


def from_config(cfg: DictConfig, run_dir: Path,
                keep_platform: bool = False) -> AbstractContextManager[Connection]:
    """The connection the config asks for.

    `keep_platform`: an embedded platform outlives the run, for the next run of
    the same process (a sweep's next job) to use; `embedded.stop_kept` ends it.
    """
    platform = cfg.platform
    pool = cfg.invoke.concurrency + 1  # the invoking threads and the poller
    if platform.name == PlatformName.local:
        # burst.* does not apply to a map run: its platform needs no backend server
        burst = cfg.mode == Mode.burst
        return embedded.connect(
            run_dir, embedded.command(platform.invokers, platform.slots, platform.max_starting,
                                      cfg.burst.backend.value if burst else "local",
                                      cfg.burst.backend_uri if burst else None),
            platform.startup_timeout_s, pool, keep_platform)
    return cluster(platform.api_host, platform.auth, platform.namespace, platform.insecure,
                   platform.ca_bundle, pool)
