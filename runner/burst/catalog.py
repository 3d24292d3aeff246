"""The one list of inter-pack backends: what users may name, and what implements each.

The runner's schema, the platform's ``?backend=`` check and the middleware's
module lookup all read this table, so a backend is either supported everywhere
or nowhere. It is plain data and imports nothing: the embedded platform reads
it without loading the middleware.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BackendKind:
    backend_type: str  # the pack line's middleware.backend_info.backend_type (the fork's name)
    module: str  # the module of runner.burst.backends implementing it
    needs_server: bool  # whether the pack line must carry a server URI


_LOCAL = BackendKind("Local", "local", needs_server=False)
_REDIS_LIST = BackendKind("RedisList", "redis_list", needs_server=True)

# Names a user writes (burst.backend, ?backend=); the fork's clients spell them with
# hyphens ("redis-list"), which `lookup` accepts as well.
BACKENDS: dict[str, BackendKind] = {
    "local": _LOCAL,
    "redis": _REDIS_LIST,
    "redis_list": _REDIS_LIST,
}


def lookup(name: str) -> BackendKind | None:
    """The backend a user's name stands for, or None when no backend has that name."""
    return BACKENDS.get(name.lower().replace("-", "_"))


def by_type(backend_type: str) -> BackendKind | None:
    """The backend a pack line's ``backend_type`` names, or None."""
    return next((kind for kind in BACKENDS.values() if kind.backend_type == backend_type), None)


def names() -> str:
    """The supported names, for error messages."""
    return ", ".join(BACKENDS)
