"""Backends that carry messages between packs, chosen by the pack line's ``backend_type``.

Adding a backend (RabbitMQ, S3, ...) means one module with a ``Backend`` and a
``StatusBoard`` subclass, ``open_backend(spec, worker_id, topology)`` and
``open_board(spec, group)`` functions, plus its entry in ``catalog.BACKENDS``
(which the runner's schema and the platform read too); collectives never change.
Modules are imported only when their backend is used, so client libraries
(redis-py, ...) stay optional.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .. import catalog
from ..errors import BurstError
from ..spec import MiddlewareSpec
from ..topology import Topology
from .base import HEARTBEAT_EVERY_S, Backend, StatusBoard
from .local import LocalBackend, LocalBoard


def _module(backend_type: str) -> ModuleType:
    kind = catalog.by_type(backend_type)
    if kind is None:
        supported = ", ".join(sorted({k.backend_type for k in catalog.BACKENDS.values()}))
        raise BurstError(f"unsupported backend_type {backend_type!r} (supported: {supported})")
    return importlib.import_module(f".{kind.module}", __package__)


def preload(spec: MiddlewareSpec) -> None:
    """Import the backend's module (and its client library) once, before workers fork.

    Forked workers then share the import instead of paying for it each; a
    failure is left for every worker to report in its own envelope.
    """
    try:
        _module(spec.backend_type)
    except (BurstError, ImportError):
        pass


def open_remote(spec: MiddlewareSpec, worker_id: int, topology: Topology) -> Backend:
    """Open the backend this worker uses to reach workers of other packs."""
    return _module(spec.backend_type).open_backend(spec, worker_id, topology)


def open_remote_board(spec: MiddlewareSpec, group: str) -> StatusBoard:
    """Open the board where pack ``group`` tells workers of other packs about its own."""
    return _module(spec.backend_type).open_board(spec, group)


__all__ = [
    "HEARTBEAT_EVERY_S",
    "Backend",
    "LocalBackend",
    "LocalBoard",
    "StatusBoard",
    "open_remote",
    "open_remote_board",
    "preload",
]
