"""Composes the experiment's config the one way every entry point and benchmark uses.

The search path is the user project's `conf/` (when there is one, put there by
hydra_plugins/burst_runner_project), then the package's `conf/` (Hydra's
primary config directory), then the registered schemas.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig

from runner.apps import catalog
from runner.config import project as projects
from runner.config import schema
from runner.config.errors import ConfigError, describe, did_you_mean


def prepare(project: projects.Project | None) -> Path:
    """Activates the project, registers the schemas and apps; returns the primary config dir."""
    projects.activate(project)
    schema.register()
    catalog.register()
    return projects.PACKAGE_CONF


def describe_composition(error: BaseException) -> str:
    """One line for an error Hydra raised while composing; an app that failed to register
    is named with the reason rather than as "no such app"; an override Hydra cannot parse is
    quoted, since the parser's own message names no key."""
    if isinstance(error, OverrideParseException):
        key = error.override.partition("=")[0]
        reason = (str(error.message).splitlines() or ["cannot be parsed"])[0]
        return (f"{error.override}: Hydra cannot parse this override ({reason}); quote a value "
                f"with special characters: '{key}=\"...\"'")
    if isinstance(error, MissingConfigException) and error.missing_cfg_file:
        group, _, choice = error.missing_cfg_file.rpartition("/")
        if group == "app" and choice in catalog.BROKEN:
            return catalog.BROKEN[choice]
        if group:
            options = sorted(error.options or [])
            return (f"{group}={choice}: no such {group}{did_you_mean(choice, options)}; "
                    f"choose one of {', '.join(options)}")
    return describe(error)


def compose(overrides: Sequence[str] = (),
            project: projects.Project | None = None) -> DictConfig:
    """The config `python -m runner OVERRIDES` would run, without creating a run directory."""
    conf_dir = prepare(project)
    try:
        with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
            return hydra_compose("config", overrides=list(overrides))
    except HydraException as error:
        raise ConfigError(describe_composition(error)) from error
