"""Reading and comparing runs, for the command line and for notebooks.

    from runner.analysis import compare_runs, load_runs, load_workers

The functions return pandas DataFrames (README, "Comparing runs"). They are
imported on first use: the runner itself imports this package for the sweep
summary and must not pay for pandas before it needs it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {"Comparison": "compare", "compare_runs": "compare", "load_activations": "runs",
            "load_runs": "runs", "load_workers": "runs"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
