"""Burst communication middleware for Python actions (ships in action zips as ``burst``).

Users receive a ``BurstHandle`` as the second argument of ``main(args, burst)``;
the launcher (``burst.launcher.serve``) runs the OpenWhisk action loop. The
names below load on first use, so reading ``burst.catalog`` (the runner's
schema and the platform do) does not import the whole middleware.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BurstError": ".errors", "BurstPeerError": ".errors", "BurstTimeoutError": ".errors",
    "BurstHandle": ".handle", "ReduceOp": ".collectives",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


__all__ = sorted(_EXPORTS)
