"""Backends that carry messages between packs, chosen by the pack line's ``backend_type``.

Adding a backend (RabbitMQ, S3, ...) means one module with a ``Backend``
subclass and an ``open_backend(spec, worker_id, burst_size)`` function, plus
one entry in ``MODULES``; collectives never change. Modules are imported only
when their backend is used, so client libraries (redis-py, ...) stay optional.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import BurstError
from ..spec import MiddlewareSpec
from .base import Backend
from .local import LocalBackend

MODULES = {
    "Local": ".local",
    "RedisList": ".redis_list",
}


def _module(backend_type: str) -> ModuleType:
    name = MODULES.get(backend_type)
    if name is None:
        supported = ", ".join(sorted(MODULES))
        raise BurstError(f"unsupported backend_type {backend_type!r} (supported: {supported})")
    return importlib.import_module(name, __package__)


def preload(spec: MiddlewareSpec) -> None:
    """Import the backend's module (and its client library) once, before workers fork.

    Forked workers then share the import instead of paying for it each; a
    failure is left for every worker to report in its own envelope.
    """
    try:
        _module(spec.backend_type)
    except (BurstError, ImportError):
        pass


def open_remote(spec: MiddlewareSpec, worker_id: int, burst_size: int) -> Backend:
    """Open the backend this worker uses to reach workers of other packs."""
    return _module(spec.backend_type).open_backend(spec, worker_id, burst_size)


__all__ = ["Backend", "LocalBackend", "open_remote", "preload"]
