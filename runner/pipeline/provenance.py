"""What produced a run: code version, interpreter, packages, host.

Written once per run so a comparison can tell apart runs of different code or
machines; it never includes credentials.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from runner.rundir.files import PROVENANCE, writing

PROJECT = Path(__file__).resolve().parent.parent
PACKAGES = ["hydra-core", "omegaconf", "requests", "pandas", "numpy", "aiohttp", "matplotlib",
            "redis"]


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=PROJECT, capture_output=True, text=True,
                              timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@cache
def collect() -> dict[str, Any]:
    """Asked once per process: a sweep's jobs share code, interpreter and host."""
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "version": _version("burst-runner"),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "host": socket.gethostname(),
        "os": platform.platform(),
        "cpus": os.cpu_count(),
    }


def write(run_dir: Path, extra: dict[str, Any]) -> dict[str, Any]:
    info = {**collect(), **extra}  # a copy: collect()'s answer is shared
    with writing(run_dir / PROVENANCE):
        (run_dir / PROVENANCE).write_text(json.dumps(info, indent=2) + "\n")
    return info
