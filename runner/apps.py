"""Finds an app's contract module in `ow_apps/<name>/` and gives it one shape.

An app module provides `Params` (a dataclass extending `AppConfig`),
`payloads(params, ctx) -> list[dict]` (one per worker) and
`validate(params, ctx, answer) -> Validation`. By default the answer is the
list of worker results indexed by worker id; an app that needs more than one
stage (or a driver) provides `run(params, ctx, executor) -> answer` instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import ow_apps

from .config import ConfigError

APPS_DIR = Path(ow_apps.__file__).parent


@dataclass(frozen=True)
class RunContext:
    """What an app may know about the run it is part of."""

    workers: int
    mode: str  # map | burst
    data_dir: Path
    # The `storage` settings, read by ow_apps.storage.root; None: files under data_dir.
    storage: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Validation:
    valid: bool
    detail: str = ""


def available() -> list[str]:
    return sorted(p.name for p in APPS_DIR.iterdir() if (p / "__init__.py").is_file())


def load(name: str) -> ModuleType:
    if name not in available():
        raise ConfigError(f"app={name}: unknown app; choose one of {', '.join(available())}")
    return importlib.import_module(f"ow_apps.{name}")


def app_file(app_name: str, name: str) -> Path:
    """A path from the app's config: relative to the app's folder unless absolute."""
    path = Path(name)
    return path if path.is_absolute() else APPS_DIR / app_name / path

