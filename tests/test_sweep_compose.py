"""A sweep's jobs get exactly the configs Hydra would compose for them, at a fraction of the cost.

The launcher composes one config per set of choices and sets the other jobs'
plain values on a copy (hydra_plugins/burst_runner_launcher); a single run
composes once (runner/config/compose_once.py). These tests put each job's config
beside Hydra's own composition of it.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException
from hydra.types import RunMode
from omegaconf import OmegaConf

from hydra_plugins.burst_runner_launcher.launcher import Composer
from runner.config import compose
from tests.conftest import PROJECT

SWEEP = {
    "app": ["hello", "kmeans"],
    "mode": ["map", "burst"],
    "workers": ["4", "8"],
    "burst.granularity": ["1", "null"],
    "invoke.concurrency": ["${workers}"],
    "app.timeout_ms": ["90000"],
}


@pytest.fixture
def loader() -> Iterator[object]:
    with initialize_config_dir(config_dir=str(compose.prepare(None)), version_base="1.3"):
        yield GlobalHydra.instance().config_loader()


def jobs(sweep: dict[str, list[str]]) -> list[list[str]]:
    return [[f"{key}={value}" for key, value in zip(sweep, values, strict=True)]
            for values in itertools.product(*sweep.values())]


def master(loader, overrides: list[str]):
    return loader.load_configuration("config", overrides=overrides, run_mode=RunMode.MULTIRUN)


def test_each_job_config_is_the_one_hydra_composes(loader) -> None:
    sweep_master = master(loader, ["hydra.mode=MULTIRUN"])
    composer = Composer(loader, sweep_master)
    all_jobs = jobs(SWEEP) + [["app=kmeans", "+hydra.job.env_set.X=1", "workers=4"],
                              ["app=kmeans", "app.points=1000", "app.points=2000"]]
    for job in all_jobs:
        ours = composer.config_for(list(job))
        ours.workers = 999  # what a job does with its config stays in that job
        hydras = loader.load_sweep_config(sweep_master, list(job))
        ours.workers = hydras.workers
        assert OmegaConf.to_yaml(ours) == OmegaConf.to_yaml(hydras), job
    assert len(composer._composed) == 4  # one per app, then one for each of the last two jobs


def test_a_value_the_schema_refuses_is_hydras_error(loader) -> None:
    sweep_master = master(loader, ["hydra.mode=MULTIRUN"])
    composer = Composer(loader, sweep_master)
    composer.config_for(["app=hello", "workers=4"])
    with pytest.raises(ConfigCompositionException, match="workers=many"):
        composer.config_for(["app=hello", "workers=many"])


def test_a_single_run_saves_the_config_hydra_composed(tmp_path: Path) -> None:
    """Against a run whose Hydra probes and composes twice (compose_once not installed)."""
    stock = ("import sys, runner.config.compose_once as once; "
             "once.install = lambda multirun: None; "
             "sys.argv[0] = 'runner'; from runner.cli import main; main()")
    args = ["mode=map", "workers=2", "app=hello", "app.greeting=hi"]
    for name, command in {"once": [sys.executable, "-m", "runner"],
                          "stock": [sys.executable, "-c", stock]}.items():
        done = subprocess.run([*command, *args, f"hydra.run.dir={tmp_path / name}"],
                              cwd=PROJECT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    for saved in ("config.yaml", "hydra.yaml", "overrides.yaml"):
        once = (tmp_path / "once/.hydra" / saved).read_text()
        stock_text = (tmp_path / "stock/.hydra" / saved).read_text()
        assert once.replace(str(tmp_path / "once"), "RUN") == \
            stock_text.replace(str(tmp_path / "stock"), "RUN"), saved
