"""The experiment's configuration: its schema, its checks and how it is composed."""

from runner.config.checks import app_params, validate
from runner.config.errors import ConfigError, Incompatible, describe
from runner.config.schema import (
    AppConfig,
    Backend,
    BuildMethod,
    ExperimentConfig,
    Lang,
    Mode,
    PlatformName,
    StorageKind,
    WaitConfig,
    register,
)

__all__ = [
    "AppConfig", "Backend", "BuildMethod", "ConfigError", "ExperimentConfig", "Incompatible",
    "Lang", "Mode", "PlatformName", "StorageKind", "WaitConfig", "app_params", "describe",
    "register", "validate",
]
