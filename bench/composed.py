"""The runner's configuration, composed by Hydra exactly as `python -m runner` composes it.

Benchmarks that drive the runner's parts in-process take their settings (worker
slots, invoke concurrency, data directory, app parameters) from here rather
than from copies, so they keep measuring what a default run does.
"""

from __future__ import annotations

from collections.abc import Sequence

from omegaconf import DictConfig

from runner.config.compose import compose


def runner_config(overrides: Sequence[str] = ()) -> DictConfig:
    return compose(overrides)
