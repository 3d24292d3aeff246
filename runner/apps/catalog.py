"""Finds the apps (in the package's `ow_apps/` and the user project's) and registers their schemas.

Every app's `Params` is stored in Hydra's ConfigStore as the option `app=<name>`,
so its defaults are written once, in the dataclass, and Hydra checks every
`app.*` key against it. An app that cannot be imported is not an option; why
is kept for the error the user sees when choosing it.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from pathlib import Path
from types import ModuleType

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

import ow_apps
from runner.config.errors import OPTION_OF, ConfigError
from runner.config.schema import AppConfig

# app name -> one line saying why it could not be registered
BROKEN: dict[str, str] = {}


def _roots() -> list[Path]:
    """The folders `ow_apps` spans, the user project's first (see runner.config.project)."""
    return [Path(folder) for folder in ow_apps.__path__]


def available() -> list[str]:
    return sorted({p.name for root in _roots() if root.is_dir() for p in root.iterdir()
                   if (p / "__init__.py").is_file()})


def folder(name: str) -> Path:
    """The app's own folder: the first `ow_apps/<name>/` holding its contract module."""
    for root in _roots():
        if (root / name / "__init__.py").is_file():
            return root / name
    where = " or ".join(str(root) for root in _roots())
    raise ConfigError(f"app={name}: no ow_apps/{name}/__init__.py (looked in {where}); "
                      f"apps: {', '.join(available())}")


def load(name: str) -> ModuleType:
    folder(name)
    try:
        module = importlib.import_module(f"ow_apps.{name}")
    except Exception as error:  # the user's code: any error is theirs to fix
        raise ConfigError(f"app={name}: ow_apps/{name}/__init__.py cannot be imported: "
                          f"{type(error).__name__}: {error}") from error
    params = getattr(module, "Params", None)
    if not (isinstance(params, type) and dataclasses.is_dataclass(params)
            and issubclass(params, AppConfig)):
        raise ConfigError(f"app={name}: ow_apps/{name}/__init__.py defines no Params, "
                          "a @dataclass extending runner.apps.AppConfig")
    if not callable(getattr(module, "validate", None)):
        raise ConfigError(f"app={name}: ow_apps/{name}/__init__.py defines no "
                          "validate(params, ctx, answer)")
    if not (callable(getattr(module, "payloads", None)) or callable(getattr(module, "run", None))):
        raise ConfigError(f"app={name}: ow_apps/{name}/__init__.py defines neither "
                          "payloads(params, ctx) nor run(params, ctx, executor)")
    return module


def app_file(app_name: str, name: str) -> Path:
    """A path from the app's config: absolute, or relative to the app's folder.

    A relative path that leaves the folder (`../storage.py`) is looked up in every
    root of `ow_apps`, so a project's app can include the package's shared modules.
    """
    path = Path(name)
    if path.is_absolute():
        return path
    own = folder(app_name) / path
    if own.exists():
        return own
    for root in _roots():
        candidate = Path(os.path.normpath(root / app_name / path))
        if candidate.exists():
            return candidate
    return own


def register() -> None:
    """Stores each importable app's Params, named after its folder, as option `app=<name>`."""
    store = ConfigStore.instance()
    BROKEN.clear()
    for name in available():
        try:
            params = load(name).Params
        except ConfigError as error:
            BROKEN[name] = str(error)
            continue
        node = OmegaConf.structured(params)
        node.name = name
        store.store(group="app", name=name, node=node)
        OPTION_OF[params] = f"app={name}"
