"""The one list of inter-pack backends: what users may name, and what implements each.

The runner's schema, the platform's ``?backend=`` check and the middleware's
module lookup all read this table, so a backend is either supported everywhere
or nowhere. It is plain data and imports nothing: the embedded platform reads
it without loading the middleware.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerKind:
    """A server some backends need, and how to get one on this machine."""

    name: str
    schemes: tuple[str, ...]  # URI schemes that address such a server
    executable: str  # what the embedded platform starts when no URI is given
    install: str  # what to do when ``executable`` is missing


@dataclass(frozen=True)
class BackendKind:
    backend_type: str  # the pack line's middleware.backend_info.backend_type (the fork's name)
    module: str  # the module of runner.burst.backends implementing it
    server: ServerKind | None  # the server its pack lines must name by URI, if any
    in_rust: bool = False  # the Rust middleware (runner/build/crates) speaks it too

    @property
    def needs_server(self) -> bool:
        return self.server is not None


REDIS = ServerKind("redis", ("redis", "rediss", "unix"), "redis-server",
                   "apt-get install redis-server")
RABBITMQ = ServerKind("rabbitmq", ("amqp", "amqps"), "rabbitmq-server",
                      "apt-get install rabbitmq-server")
S3 = ServerKind("s3", ("s3",), "moto_server", "pip install 'moto[server]'")

_LOCAL = BackendKind("Local", "local", None, in_rust=True)
_REDIS_LIST = BackendKind("RedisList", "redis_list", REDIS, in_rust=True)
_REDIS_STREAM = BackendKind("RedisStream", "redis_stream", REDIS)
_RABBITMQ = BackendKind("Rabbitmq", "rabbitmq", RABBITMQ)
_S3 = BackendKind("S3", "s3", S3)

# Names a user writes (burst.backend, ?backend=); the fork's clients spell them with
# hyphens ("redis-list"), which `lookup` accepts as well.
BACKENDS: dict[str, BackendKind] = {
    "local": _LOCAL,
    "redis": _REDIS_LIST,
    "redis_list": _REDIS_LIST,
    "redis_stream": _REDIS_STREAM,
    "rabbitmq": _RABBITMQ,
    "s3": _S3,
}


def lookup(name: str) -> BackendKind | None:
    """The backend a user's name stands for, or None when no backend has that name."""
    return BACKENDS.get(name.lower().replace("-", "_"))


def by_type(backend_type: str) -> BackendKind | None:
    """The backend a pack line's ``backend_type`` names, or None."""
    return next((kind for kind in BACKENDS.values() if kind.backend_type == backend_type), None)


def server_of_uri(uri: str) -> ServerKind | None:
    """The kind of server a URI addresses, by its scheme (None: no server we know)."""
    scheme = uri.partition("://")[0].lower()
    servers = {kind.server for kind in BACKENDS.values() if kind.server is not None}
    return next((server for server in servers if scheme in server.schemes), None)


def names(rust: bool = False) -> str:
    """The supported names (of Rust burst actions, with `rust`), for error messages."""
    return ", ".join(name for name, kind in BACKENDS.items() if kind.in_rust or not rust)
