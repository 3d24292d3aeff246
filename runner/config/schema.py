"""Typed schema of an experiment: one dataclass per config group option.

Each option of a group has a schema of its own (the embedded platform and a
cluster, local and S3 storage, every app), registered in Hydra's ConfigStore
under its option name, so Hydra checks types, enum values and key names while
it composes, and a key of another option is an error naming it. The defaults
live here, once; yaml files in `conf/` are only for variants and sweeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from runner.burst.catalog import BACKENDS
from runner.config.errors import OPTION_OF


class Choice(str, Enum):
    """An allowed value that reads as itself, e.g. in Hydra's run directory names."""

    def __str__(self) -> str:
        return self.value


class Mode(Choice):
    map = "map"
    burst = "burst"


# the burst backends the middleware implements (runner/burst/catalog.py)
Backend = Choice("Backend", {name: name for name in BACKENDS})


class PlatformName(Choice):
    local = "local"
    openwhisk = "openwhisk"


@dataclass
class EmbeddedPlatform:
    """platform=local: the embedded OpenWhisk-compatible platform, started on loopback."""

    OPTION: ClassVar[str] = "platform=local"
    name: PlatformName = PlatformName.local
    invokers: int = 1  # simulated invokers; bursts are packed per invoker (see burst.join)
    slots: int = 256  # worker slots per invoker: a map activation takes 1, a pack its workers
    max_starting: int | None = None  # concurrent cold starts; None = one per CPU core
    startup_timeout_s: float = 30.0


@dataclass
class ClusterPlatform:
    """platform=openwhisk: a real (burst fork of) OpenWhisk cluster."""

    OPTION: ClassVar[str] = "platform=openwhisk"
    name: PlatformName = PlatformName.openwhisk
    api_host: str | None = None  # e.g. https://host:443; None = ~/.wskprops or __OW_API_HOST
    auth: str | None = None  # uuid:key; None = ~/.wskprops or __OW_API_KEY
    namespace: str = "_"
    insecure: bool = False  # skip TLS verification (self-signed clusters)
    ca_bundle: str | None = None  # a CA bundle that signs the cluster's certificate


class StorageKind(Choice):
    local = "local"
    s3 = "s3"


@dataclass
class LocalStorage:
    """storage=local: input and output data as files under a directory; enough for one machine."""

    OPTION: ClassVar[str] = "storage=local"
    kind: StorageKind = StorageKind.local
    path: str = "${data_dir}"  # generated input is reused across runs; runs/ holds scratch data


@dataclass
class S3Storage:
    """storage=s3: data as objects in an S3-compatible bucket (AWS, MinIO, Ceph, ...).

    Settings left null come from the standard AWS environment variables and
    files, in the runner and in the actions alike (the embedded platform's
    actions inherit the runner's environment).
    """

    OPTION: ClassVar[str] = "storage=s3"
    kind: StorageKind = StorageKind.s3
    endpoint_url: str | None = None  # None = AWS; e.g. http://minio.example.org:9000
    bucket: str | None = None  # required: an existing bucket
    prefix: str = "burst-runner"  # keys are <prefix>/<app>/...
    region: str | None = None
    access_key: str | None = None  # set only to pass keys to actions in their payloads;
    secret_key: str | None = None  # prefer the environment variables


@dataclass
class BurstConfig:
    granularity: int | None = None
    join: bool = False
    backend: Backend = Backend.local  # type: ignore[valid-type]
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


@dataclass
class ExperimentConfig:
    platform: Any = MISSING  # one of the platform schemas above
    app: Any = MISSING  # the chosen app's Params
    mode: Mode = Mode.burst
    workers: int = 8
    burst: BurstConfig = field(default_factory=BurstConfig)
    invoke: InvokeConfig = field(default_factory=InvokeConfig)
    wait: WaitConfig = field(default_factory=WaitConfig)
    build: BuildConfig = field(default_factory=BuildConfig)
    data_dir: str = MISSING
    storage: Any = MISSING  # one of the storage schemas above
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
    """Keys every app has; an app's `Params` extends it with its own parameters.

    `None` means "the default for this language and build method" (see
    `runner.build.spec`), so `app.lang=rust` alone switches an app to its crate.
    Paths are relative to the app's folder `ow_apps/<name>/`.
    """

    name: str = MISSING  # set to the app's folder name when the app is registered
    lang: Lang = Lang.python
    action: str | None = None  # .py file or package dir | crate dir | .zip (prebuilt)
    include: list[str] = field(default_factory=list)  # extra modules the action imports
    requirements: list[str] = field(default_factory=list)  # pip requirements to vendor
    build: BuildMethod | None = None  # None: python for Python, cargo for Rust
    kind: str | None = None  # runtime kind to deploy; None: from lang, method and image
    main: str = "main"  # the action's entry function
    image: str | None = None  # custom runtime image (deployed as kind blackbox)
    memory: int = 256  # MB per worker (a pack gets granularity times this)
    timeout_ms: int = 60000


GROUP_SCHEMAS: dict[str, dict[str, type]] = {
    "platform": {"local": EmbeddedPlatform, "openwhisk": ClusterPlatform},
    "storage": {"local": LocalStorage, "s3": S3Storage},
}


def register() -> None:
    """Puts the experiment's schema and every platform and storage option in the ConfigStore."""
    store = ConfigStore.instance()
    store.store(name="experiment_schema", node=ExperimentConfig)
    for group, options in GROUP_SCHEMAS.items():
        for option, schema in options.items():
            store.store(group=group, name=option, node=schema)
            OPTION_OF[schema] = schema.OPTION
