"""burst-runner: map vs burst experiments on OpenWhisk, and an embedded platform to run them.

A user's project (the current directory, for `python -m runner`) may hold an
`ow_apps/` folder of its own, and `python -m` puts that directory first on
`sys.path`; the shipped `ow_apps` package is therefore imported here, before
anything else, with the current directory out of the way. The project's
folder then joins that package (runner/config/project.py) instead of hiding it.
"""

from __future__ import annotations

import importlib
import os
import sys


def _import_shipped_apps() -> None:
    if "ow_apps" in sys.modules:
        return
    here = os.getcwd()
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    try:
        importlib.import_module("ow_apps")
    finally:
        sys.path[:] = saved


_import_shipped_apps()
