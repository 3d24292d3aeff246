"""A launcher that composes a sweep's configs once per set of choices, not once per job.

Hydra's basic launcher composes every job's config from scratch: the defaults
list, every YAML file and schema merged again, each override parsed by its
ANTLR grammar. That is about 100 ms per job on a small machine, as long as
a short job itself. But in a sweep most jobs differ from an earlier one only
in plain values (`workers=8` instead of `workers=4`), and setting a value is
what composing would do with it last. So jobs are grouped by everything that
could change the composition itself (config-group choices, `+`/`~` overrides,
`hydra.*` overrides, dicts) and by which keys they set: the first job of a
group is composed by Hydra, the others are a copy of it with their own values
set the way Hydra sets them (``OmegaConf.update``, merge), and their own
``hydra.overrides.task`` and ``hydra.job.override_dirname``. A value that the
schema refuses falls back to Hydra's composition, which reports it as usual.

It is stored as Hydra's `hydra/launcher: basic`, like the sweeper, so every sweep
uses it unless an experiment chooses another launcher.
"""

# No `from __future__ import annotations`: Hydra loads plugin modules outside sys.modules,
# where dataclasses cannot resolve string annotations.
import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra._internal.config_loader_impl import get_overrides_dirname
from hydra._internal.core_plugins.basic_launcher import BasicLauncher
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType, ValueType
from hydra.core.utils import JobReturn, configure_log, filter_overrides, run_job, setup_globals
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

log = logging.getLogger(__name__)
PLAIN_VALUES = (bool, int, float, str, type(None))


class BurstRunnerLauncher(BasicLauncher):
    composer: "Composer | None" = None  # the sweeper checks its jobs with it too

    def setup(self, *, hydra_context: Any, task_function: Any, config: DictConfig) -> None:
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)
        self.composer = Composer(hydra_context.config_loader, config)

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        setup_globals()
        assert self.hydra_context is not None and self.config is not None
        assert self.task_function is not None and self.composer is not None
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        log.info(f"Launching {len(job_overrides)} jobs locally")
        runs: list[JobReturn] = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
            sweep_config = self.composer.config_for(list(overrides))
            with open_dict(sweep_config):
                sweep_config.hydra.job.id = idx
                sweep_config.hydra.job.num = idx
            runs.append(run_job(hydra_context=self.hydra_context,
                                task_function=self.task_function, config=sweep_config,
                                job_dir_key="hydra.sweep.dir",
                                job_subdir_key="hydra.sweep.subdir"))
            configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        return runs


class Composer:
    """Job configs of one sweep: Hydra's composition where needed, a copy where enough."""

    def __init__(self, config_loader: Any, master_config: DictConfig) -> None:
        self._loader = config_loader
        self._master = master_config
        self._parser = OverridesParser.create()
        self._parsed: dict[str, Override] = {}
        self._composed: dict[tuple, DictConfig] = {}  # group key -> a pristine composed config

    def config_for(self, overrides: list[str]) -> DictConfig:
        parsed = [self._parse(line) for line in overrides]
        plain = _plain_overrides(parsed, self._is_group)
        group = (tuple(o.input_line for o in parsed if o not in plain),
                 tuple(sorted(o.key_or_group for o in plain)))
        template = self._composed.get(group)
        if template is not None:
            config = copy.deepcopy(template)
            try:
                _set_values(config, parsed, plain)
                return config
            except OmegaConfBaseException:
                pass  # Hydra's composition says what is wrong, in its own words
        config = self._loader.load_sweep_config(self._master, overrides)
        self._composed.setdefault(group, copy.deepcopy(config))
        return config

    def _parse(self, line: str) -> Override:
        if line not in self._parsed:  # a sweep repeats each value in many jobs
            self._parsed[line] = self._parser.parse_override(line)
        return self._parsed[line]

    def _is_group(self, key: str) -> bool:
        return self._loader.repository.group_exists(key)


def _plain_overrides(parsed: list[Override], is_group: Any) -> list[Override]:
    """The overrides that only set a value: no group, no package, no +/~, one plain value."""
    candidates = [
        o for o in parsed
        if o.type is OverrideType.CHANGE and o.package is None
        and o.value_type is ValueType.ELEMENT and not o.is_hydra_override()
        and isinstance(o.value(), PLAIN_VALUES) and not is_group(o.key_or_group)
    ]
    others = [o.key_or_group for o in parsed if o not in candidates]
    keys = [o.key_or_group for o in candidates]
    return [o for o in candidates
            if keys.count(o.key_or_group) == 1
            and not any(_related(o.key_or_group, other) for other in others)]


def _related(key: str, other: str) -> bool:
    """Whether setting one may change the other (the same key, or one inside the other)."""
    return key == other or key.startswith(other + ".") or other.startswith(key + ".")


def _set_values(config: DictConfig, parsed: list[Override], plain: list[Override]) -> None:
    """What Hydra's composition does with a job's plain values and its override lists."""
    for override in plain:
        OmegaConf.update(config, override.key_or_group, override.value(), merge=True)
    task = [o for o in parsed if not o.is_hydra_override()]
    dirname = config.hydra.job.config.override_dirname
    with open_dict(config.hydra):
        config.hydra.overrides.task = [o.input_line for o in task]
        config.hydra.job.override_dirname = _overrides_dirname(task, dirname)


def _overrides_dirname(task: list[Override], settings: DictConfig) -> str:
    return get_overrides_dirname(overrides=task, kv_sep=settings.kv_sep,
                                 item_sep=settings.item_sep,
                                 exclude_keys=list(settings.exclude_keys))


@dataclass
class BurstRunnerLauncherConf:
    _target_: str = "hydra_plugins.burst_runner_launcher.launcher.BurstRunnerLauncher"


ConfigStore.instance().store(group="hydra/launcher", name="basic",
                             node=BurstRunnerLauncherConf, provider="burst-runner")
