"""Typed schema of an experiment and the checks Hydra cannot express.

The dataclasses are registered in Hydra's ConfigStore so that types and enum
values are checked while Hydra composes the config; ranges and cross-field
rules are checked by `validate` before any step runs. Every failure is a
`ConfigError` whose text is one line naming the key and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException


class ConfigError(ValueError):
    """A config value the user must fix; its message is one line."""


class Incompatible(ConfigError):
    """Values that are each fine but make no sense together; a sweep skips such a job."""


class Choice(str, Enum):
    """An allowed value that reads as itself, e.g. in Hydra's run directory names."""

    def __str__(self) -> str:
        return self.value


class Mode(Choice):
    map = "map"
    burst = "burst"


class Backend(Choice):
    local = "local"
    redis = "redis"


class PlatformName(Choice):
    local = "local"
    openwhisk = "openwhisk"


@dataclass
class PlatformConfig:
    name: PlatformName = PlatformName.local
    # embedded platform
    invokers: int = 1
    slots: int = 256
    max_starting: int | None = None
    startup_timeout_s: float = 30.0
    # real cluster
    api_host: str | None = None
    auth: str | None = None
    namespace: str = "_"
    insecure: bool = False
    ca_bundle: str | None = None


@dataclass
class BurstConfig:
    granularity: int | None = None
    join: bool = False
    backend: Backend = Backend.local
    backend_uri: str | None = None
    chunk_size: int | None = None
    debug: bool = False


@dataclass
class InvokeConfig:
    concurrency: int = 64
    blocking: bool = False


@dataclass
class WaitConfig:
    timeout_s: float = 600.0
    poll_rate: float = 6.0


@dataclass
class BuildConfig:
    cache_dir: str = MISSING


class StorageKind(Choice):
    local = "local"
    s3 = "s3"


@dataclass
class StorageConfig:
    """Where the apps' input and output data live (see ow_apps/storage.py).

    S3 settings left null come from the standard AWS environment variables and
    files, in the runner and in the actions alike.
    """

    kind: StorageKind = StorageKind.local
    path: str | None = None  # local: the data directory
    endpoint_url: str | None = None  # s3: null = AWS itself
    bucket: str | None = None
    prefix: str = ""  # s3: keys start with it
    region: str | None = None
    access_key: str | None = None  # set only to pass keys to actions in their payloads
    secret_key: str | None = None


@dataclass
class ExperimentConfig:
    platform: PlatformConfig = field(default_factory=PlatformConfig)
    app: Any = MISSING
    mode: Mode = Mode.burst
    workers: int = 8
    burst: BurstConfig = field(default_factory=BurstConfig)
    invoke: InvokeConfig = field(default_factory=InvokeConfig)
    wait: WaitConfig = field(default_factory=WaitConfig)
    build: BuildConfig = field(default_factory=BuildConfig)
    data_dir: str = MISSING
    storage: StorageConfig = field(default_factory=StorageConfig)
    repeat_index: int = 0
    debug: bool = False


class Lang(Choice):
    python = "python"
    rust = "rust"


class BuildMethod(Choice):
    python = "python"      # zip of the module, the burst package and vendored requirements
    cargo = "cargo"        # the local Rust toolchain, offline, inside a generated action loop
    docker = "docker"      # an OpenWhisk Rust runtime image's own `-compile`
    prebuilt = "prebuilt"  # a zip built elsewhere, uploaded as it is
    remote = "remote"      # Rust source compiled by the cluster's runtime at init


@dataclass
class AppConfig:
    """Keys every app has; an app extends it with its own parameters.

    `None` means "the default for this language and build method" (see
    `runner.build_spec`), so `app.lang=rust` alone switches an app to its crate.
    """

    name: str = MISSING
    lang: Lang = Lang.python
    action: str | None = None  # .py file or package dir | crate dir | .zip (prebuilt)
    include: list[str] = field(default_factory=list)  # extra modules the action imports
    requirements: list[str] = field(default_factory=list)  # pip requirements to vendor
    build: BuildMethod | None = None  # None: python for Python, cargo for Rust
    kind: str | None = None  # runtime kind to deploy; None: from lang, method and image
    main: str = "main"  # the action's entry function
    image: str | None = None  # custom runtime image (deployed as kind blackbox)
    memory: int = 256
    timeout_ms: int = 60000


def register() -> None:
    ConfigStore.instance().store(name="experiment_schema", node=ExperimentConfig)


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


def validate(cfg: DictConfig) -> None:
    """Checks what types alone do not; raises ConfigError on the first bad key."""
    _positive("workers", cfg.workers)
    _positive("burst.granularity", cfg.burst.granularity)
    _positive("burst.chunk_size", cfg.burst.chunk_size)
    _positive("invoke.concurrency", cfg.invoke.concurrency)
    _positive("platform.invokers", cfg.platform.invokers)
    _positive("platform.slots", cfg.platform.slots)
    _positive("app.memory", cfg.app.memory, 128)
    _positive("app.timeout_ms", cfg.app.timeout_ms, 100)
    granularity = cfg.burst.granularity
    if cfg.mode == Mode.burst and granularity is not None and granularity > cfg.workers:
        raise Incompatible(f"burst.granularity={granularity} > workers={cfg.workers}: "
                          "a pack cannot hold more workers than the burst has")
    if cfg.wait.timeout_s <= 0:
        raise ConfigError(f"wait.timeout_s={cfg.wait.timeout_s}: must be > 0")
    if cfg.wait.poll_rate <= 0:
        raise ConfigError(
            f"wait.poll_rate={cfg.wait.poll_rate}: must be > 0 (list requests per second)"
        )
    _check_storage(cfg.storage)
    if cfg.burst.backend == Backend.redis and not cfg.burst.backend_uri:
        raise ConfigError(
            "burst.backend=redis needs burst.backend_uri (e.g. redis://127.0.0.1:6379)"
        )


def app_params(cfg: DictConfig, schema: type) -> Any:
    """Merges the app's node onto its dataclass so unknown keys and bad types fail early."""
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), cfg.app)
    except OmegaConfBaseException as error:
        raise ConfigError(describe_omegaconf_error(error, prefix="app.")) from error
    return OmegaConf.to_object(merged)


def describe_omegaconf_error(error: BaseException, prefix: str = "") -> str:
    """One line out of OmegaConf's multi-line messages: the key and the complaint."""
    while error.__cause__ is not None and not isinstance(error, OmegaConfBaseException):
        error = error.__cause__
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    key = getattr(error, "full_key", None)
    if key:
        return f"{prefix}{key}: {message}"
    return message
