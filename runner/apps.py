"""Finds an app's contract module in `ow_apps/<name>/` and gives it one shape.

An app module provides `Params` (a dataclass extending `AppConfig`),
`payloads(params, workers) -> list[dict]` (one per worker) and
`validate(params, results) -> Validation`; it may provide
`run(params, workers, executor)` when it needs more than one stage.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import ow_apps

from .config import ConfigError

APPS_DIR = Path(ow_apps.__file__).parent


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


def action_source(app_name: str, action: str) -> Path:
    path = Path(action)
    return path if path.is_absolute() else APPS_DIR / app_name / path

