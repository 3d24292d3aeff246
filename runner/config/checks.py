"""The checks Hydra cannot express: ranges and rules across keys, run before any step."""

from __future__ import annotations

import socket
import urllib.parse
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from runner.burst.catalog import BACKENDS, names, server_of_uri
from runner.config.errors import ConfigError, Incompatible, describe
from runner.config.schema import Lang, Mode, PlatformName, StorageKind
from runner.platform.packing import plan_burst
from runner.platform.servers import missing

# The runner keeps a few KB per worker while it waits (about 3 KB measured at 10,000): a
# million workers is already gigabytes, and a typo such as workers=1000000000 would fill the
# machine's memory for minutes before anything failed.
MAX_WORKERS = 1_000_000


def _positive(key: str, value: Any, minimum: int = 1) -> None:
    if value is not None and value < minimum:
        raise ConfigError(f"{key}={value}: must be an integer >= {minimum}")


def _check_storage(storage: DictConfig) -> None:
    if storage.kind != StorageKind.s3:
        return
    if not storage.bucket:
        raise ConfigError("storage=s3 needs storage.bucket, an existing bucket for the data")
    if storage.endpoint_url and not str(storage.endpoint_url).startswith(("http://", "https://")):
        raise ConfigError(f"storage.endpoint_url={storage.endpoint_url}: must start with "
                          "http:// or https://")


def check_api_host(key: str, value: str, default_scheme: str | None = None) -> str:
    """The controller's URL, or a ConfigError naming `key` and what is wrong with it.

    Caught here rather than by the first request: without a scheme the client
    would speak TLS to a plain-HTTP port, and a bad port or host would only be
    retried. `default_scheme` is what a value without one gets: `wsk` reads an
    APIHOST without a scheme as https, so ~/.wskprops keeps that meaning.
    """
    text = value.strip()
    if "://" not in text:
        if default_scheme is None:
            raise ConfigError(f"{key}={value}: needs a scheme: http://{text} or https://{text}")
        text = f"{default_scheme}://{text}"
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"{key}={value}: the scheme must be http:// or https://")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (port is None and parts.netloc.endswith(":")):
        raise ConfigError(f"{key}={value}: the port must be a number in 1..65535")
    if not parts.hostname:
        raise ConfigError(f"{key}={value}: no host name")
    try:
        socket.getaddrinfo(parts.hostname, port)
    except (OSError, UnicodeError, ValueError) as error:
        reason = getattr(error, "strerror", None) or error
        raise ConfigError(f"{key}={value}: unknown host {parts.hostname} ({reason})") from None
    return text


def _check_backend_server(backend: str, uri: str | None) -> None:
    """The embedded platform starts a missing server itself: it must be installed."""
    server = BACKENDS[backend].server
    if server is None:
        return
    if uri is None:
        problem = missing(server)
        if problem:
            raise ConfigError(f"burst.backend={backend} on platform=local starts "
                              f"{server.executable}, but {problem}; or set burst.backend_uri")
    elif server_of_uri(uri) != server:
        schemes = " or ".join(f"{scheme}://" for scheme in server.schemes)
        raise ConfigError(f"burst.backend_uri={uri}: burst.backend={backend} needs a "
                          f"{server.name} server, a URI starting with {schemes}")


def _check_burst_fits(workers: int, granularity: int | None, join: bool,
                      platform: DictConfig) -> None:
    """The embedded platform runs a burst only if all its packs fit at once (as the fork does):
    said here, before anything starts, with the settings to raise, rather than as the
    platform's HTTP 400 naming its own command-line flags."""
    if plan_burst([platform.slots] * platform.invokers, workers, granularity, join) is None:
        raise ConfigError(
            f"workers={workers}: a burst's packs all run at once, and platform=local has "
            f"{platform.invokers} invoker(s) of {platform.slots} worker slots; raise "
            "platform.slots or platform.invokers")


def validate(cfg: DictConfig) -> None:
    """Checks what types alone do not; raises ConfigError on the first bad key."""
    _positive("workers", cfg.workers)
    if cfg.workers > MAX_WORKERS:
        raise ConfigError(f"workers={cfg.workers}: at most {MAX_WORKERS:,} (the runner keeps "
                          "a few KB in memory per worker)")
    _positive("burst.granularity", cfg.burst.granularity)
    _positive("burst.chunk_size", cfg.burst.chunk_size)
    _positive("invoke.concurrency", cfg.invoke.concurrency)
    if cfg.platform.name == PlatformName.local:
        _positive("platform.invokers", cfg.platform.invokers)
        _positive("platform.slots", cfg.platform.slots)
    _positive("app.memory", cfg.app.memory, 128)
    _positive("app.timeout_ms", cfg.app.timeout_ms, 100)
    granularity = cfg.burst.granularity
    if cfg.mode == Mode.burst and granularity is not None and granularity > cfg.workers:
        raise Incompatible(f"burst.granularity={granularity} > workers={cfg.workers}: "
                           "a pack cannot hold more workers than the burst has")
    if cfg.mode == Mode.burst and cfg.platform.name == PlatformName.local:
        _check_burst_fits(cfg.workers, granularity, cfg.burst.join, cfg.platform)
    if cfg.wait.timeout_s <= 0:
        raise ConfigError(f"wait.timeout_s={cfg.wait.timeout_s}: must be > 0")
    if cfg.wait.poll_rate <= 0:
        raise ConfigError(
            f"wait.poll_rate={cfg.wait.poll_rate}: must be > 0 (list requests per second)"
        )
    _check_storage(cfg.storage)
    backend = str(cfg.burst.backend)
    if cfg.mode == Mode.burst and cfg.app.get("lang") == Lang.rust and \
            not BACKENDS[backend].in_rust:
        raise ConfigError(f"burst.backend={backend}: Rust burst actions speak "
                          f"{names(rust=True)}; choose one of them, or app.lang=python")
    if cfg.platform.name == PlatformName.openwhisk and cfg.platform.api_host is not None:
        check_api_host("platform.api_host", cfg.platform.api_host)
    # a cluster configures its backend servers itself; the embedded platform is told here,
    # and only for a burst: a map run ignores burst.*
    if cfg.platform.name == PlatformName.local and cfg.mode == Mode.burst:
        _check_backend_server(str(cfg.burst.backend), cfg.burst.backend_uri)


def app_params(cfg: DictConfig, schema: type) -> Any:
    """The app's node as its Params object; unknown keys and bad types fail here at the latest.

    Hydra has already checked the node against the schema when the app was chosen by
    name; a run directory's saved config (resume) is checked only here.
    """
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), cfg.app)
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as error:
        raise ConfigError(describe(error, prefix="app.")) from error
