"""Hydra composes the command line's config once, not twice, before the first job starts.

To learn whether the config asks for a sweep (``hydra.mode``), Hydra's entry point
composes the whole config, throws it away, and composes it again to run it: on
a small machine 0.1-0.2 s of a run that may take well under a second. The
probe here composes the config the way the run will (run or multirun, as the
command line says) and keeps it; when the run asks for the same config, with
only the ``hydra.mode=...`` line Hydra appends to the overrides when the config
leaves the mode open, it gets the kept one with that line applied as Hydra
would apply it. Whatever the probe cannot settle (an error, a mode other than
the command line's) is left to Hydra's own probe and composition, so every
config error reads exactly as before.

It patches two methods of Hydra's internal ``Hydra`` class (hydra-core 1.3, the
range the project pins), only in the runner's own process.
"""

from __future__ import annotations

import logging
from typing import Any

import hydra._internal.hydra as hydra_internal
from hydra._internal.hydra import Hydra
from hydra.core.utils import configure_log
from hydra.types import RunMode
from omegaconf import DictConfig

_probe = Hydra.get_mode
_compose = Hydra.compose_config
_kept: dict[tuple, DictConfig] = {}  # (config name, overrides, run mode) -> composed config


def install(multirun: bool) -> None:
    """Compose once from now on; ``multirun``: the command line has -m/--multirun."""
    run_mode = RunMode.MULTIRUN if multirun else RunMode.RUN

    def get_mode(self: Hydra, config_name: str | None, overrides: list[str]) -> Any:
        try:
            cfg = _compose(self, config_name, overrides, run_mode)
        except Exception:
            return _probe(self, config_name, overrides)  # let Hydra decide, and report
        if cfg.hydra.mode not in (None, run_mode):
            return _probe(self, config_name, overrides)
        _kept[(config_name, tuple(overrides), run_mode)] = cfg
        return cfg.hydra.mode

    def compose_config(self: Hydra, config_name: str | None, overrides: list[str],
                       run_mode: RunMode, with_log_configuration: bool = False,
                       from_shell: bool = True,
                       validate_sweep_overrides: bool = True) -> DictConfig:
        mode_line = f"hydra.mode={run_mode.name}"
        opened = overrides[-1:] == [mode_line]  # Hydra set the mode the config left open
        cfg = _kept.pop((config_name, tuple(overrides[:-1] if opened else overrides), run_mode),
                        None)
        if cfg is None or not validate_sweep_overrides or not from_shell:
            return _compose(self, config_name, overrides, run_mode, with_log_configuration,
                            from_shell, validate_sweep_overrides)
        if opened:
            cfg.hydra.mode = run_mode
            cfg.hydra.overrides.hydra.append(mode_line)
        if with_log_configuration:  # as Hydra's compose_config does after composing
            configure_log(cfg.hydra.hydra_logging, cfg.hydra.verbose)
            hydra_internal.log = logging.getLogger(hydra_internal.__name__)
            self._print_debug_info(config_name, overrides, run_mode)
        return cfg

    Hydra.get_mode = get_mode  # type: ignore[method-assign]
    Hydra.compose_config = compose_config  # type: ignore[method-assign]
