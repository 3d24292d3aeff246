"""The runner's configuration, composed by Hydra exactly as `python -m runner` composes it.

Benchmarks that drive the runner's parts in-process take their settings (worker
slots, invoke concurrency, data directory, app parameters) from here rather
than from copies, so they keep measuring what a default run does.
"""

from __future__ import annotations

from collections.abc import Sequence

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from runner import config

from .common import PROJECT


def runner_config(overrides: Sequence[str] = ()) -> DictConfig:
    config.register()
    with initialize_config_dir(config_dir=str(PROJECT / "conf"), version_base="1.3"):
        return compose("config", overrides=list(overrides))
