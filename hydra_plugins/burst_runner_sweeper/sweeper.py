"""A sweeper that checks every override value before the sweep runs, composing fewer configs.

Hydra's basic sweeper composes the config of every job before launching any,
and the launcher composes each again: two compositions per job, most of a short
job's time. Composing once the jobs that bring an override value no earlier
checked job had is enough to find every misspelt key and every bad value before
anything runs (`mode=map,brust`, `workers=4,x`); what only a combination can
break (granularity > workers) the runner reports for that job alone. With the
runner's launcher (hydra_plugins/burst_runner_launcher) the checks go through
its composer, so a job that only sets plain values costs a copy, and the
configs checked are the first the launcher reuses.

It is stored as Hydra's `hydra/sweeper: basic` (plugins are loaded after Hydra's
own, so this node replaces Hydra's), which keeps every sweep using it by default
while an experiment can still choose another sweeper (`override /hydra/sweeper:
optuna`).
"""

# No `from __future__ import annotations`: Hydra loads plugin modules outside sys.modules,
# where dataclasses cannot resolve string annotations, and OmegaConf reads these types.
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore


class BurstRunnerSweeper(BasicSweeper):
    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        seen: set[str] = set()
        chosen = []
        for overrides in batch:
            if not seen.issuperset(overrides):
                chosen.append(overrides)
                seen.update(overrides)
        composer = getattr(self.launcher, "composer", None)  # the runner's own launcher's
        if composer is None:
            super().validate_batch_is_legal(chosen)
            return
        for overrides in chosen:
            composer.config_for(list(overrides))


@dataclass
class BurstRunnerSweeperConf:
    _target_: str = "hydra_plugins.burst_runner_sweeper.sweeper.BurstRunnerSweeper"
    max_batch_size: Optional[int] = None  # noqa: UP045 (OmegaConf's type support)
    params: Optional[dict[str, str]] = None  # noqa: UP045


ConfigStore.instance().store(group="hydra/sweeper", name="basic",
                             node=BurstRunnerSweeperConf, provider="burst-runner")
