"""The user's own project: a directory with `conf/` and `ow_apps/` shaped like the package's.

Its configs are searched before the package's, so it can add options to any
group (`app/`, `experiment/`, `platform/`, ...) or replace ours; its apps join
the `ow_apps` package, so they import as `ow_apps.<name>` beside the shipped
ones and can use the shipped helpers (`ow_apps.storage`, ...).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import ow_apps
from runner.config.errors import ConfigError

ENV_VAR = "BURST_RUNNER_PROJECT"
PACKAGE_CONF = Path(__file__).resolve().parent.parent / "conf"
PACKAGE_APPS = Path(ow_apps.__file__).resolve().parent


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def conf(self) -> Path | None:
        conf = self.root / "conf"
        return conf if conf.is_dir() else None

    @property
    def apps(self) -> Path | None:
        apps = self.root / "ow_apps"
        return apps if apps.is_dir() and apps.resolve() != PACKAGE_APPS else None


def _is_project(path: Path) -> bool:
    project = Project(path)
    own_conf = project.conf is not None and project.conf.resolve() != PACKAGE_CONF
    return own_conf or project.apps is not None


def find(explicit: str | None = None) -> Project | None:
    """The project named by `--project`, else by $BURST_RUNNER_PROJECT, else the current
    directory when it looks like one; None when there is none."""
    named = explicit or os.environ.get(ENV_VAR)
    if named:
        root = Path(named).expanduser().resolve()
        if not _is_project(root):
            source = "--project" if explicit else ENV_VAR
            raise ConfigError(f"{source}={named}: no conf/ or ow_apps/ folder there; a project "
                              "holds conf/<group>/*.yaml and ow_apps/<app>/__init__.py")
        return Project(root)
    cwd = Path.cwd()
    return Project(cwd) if _is_project(cwd) else None


_active: Project | None = None


def activate(project: Project | None) -> None:
    """Makes `project` the one whose configs and apps are used.

    Its apps import as `ow_apps.<name>`, found before the shipped ones; its
    `conf/` is searched first (hydra_plugins/burst_runner_project asks `active_conf`).
    """
    global _active
    _active = project
    if project is None or project.apps is None:
        return
    folder = str(project.apps)
    if folder not in ow_apps.__path__:
        ow_apps.__path__.insert(0, folder)


def active_conf() -> Path | None:
    """The active project's `conf/`, searched before the package's."""
    return _active.conf if _active is not None else None


def pop_option(argv: list[str]) -> tuple[str | None, list[str]]:
    """Takes `--project DIR` (or `--project=DIR`) out of a command line."""
    rest: list[str] = []
    named = None
    items = iter(argv)
    for arg in items:
        if arg == "--project":
            named = next(items, None)
            if named is None:
                raise ConfigError("--project needs a directory: --project DIR")
        elif arg.startswith("--project="):
            named = arg.partition("=")[2]
        else:
            rest.append(arg)
    return named, rest
