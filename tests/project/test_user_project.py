"""A researcher's own project: its apps and configs beside the shipped ones, found from its folder.

The project (tests/data/pi_project) is what the README's "Your own project"
describes: `ow_apps/mcpi/` (a Monte Carlo pi app with a helper module and the
shipped `phases.py` in its zip) and `conf/` variants of an app, a platform and
a ready sweep. It is copied to a temporary directory and used from there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

SOURCE = Path(__file__).resolve().parent.parent / "data" / "pi_project"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SOURCE, tmp_path / "pi_project"))


def runner(cwd: Path, *args: str, cache_dir: Path, env: dict[str, str] | None = None,
           module: str = "runner") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args, f"build.cache_dir={cache_dir}"],
                          cwd=cwd, capture_output=True, text=True, timeout=180,
                          env={**os.environ, **(env or {})})


def run_dir(completed: subprocess.CompletedProcess) -> Path:
    line = next(line for line in completed.stdout.splitlines() if line.startswith("run directory"))
    return Path(line.partition(": ")[2])


@pytest.mark.parametrize("mode", ["map", "burst"])
def test_the_projects_own_app_runs_from_its_folder(project, cache_dir, mode):
    done = runner(project, f"mode={mode}", "workers=4", "burst.granularity=2", "app=mcpi",
                  cache_dir=cache_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: pi ~ 3.1"), done.stdout
    directory = run_dir(done)
    assert directory.is_relative_to(project / "outputs")
    workers = pd.read_csv(directory / "workers.csv")
    assert sorted(workers["worker_id"]) == [0, 1, 2, 3]
    assert (workers["hits"] > 0).all() and (workers["compute_ms"] > 0).all()  # phases.py shipped
    if mode == "burst":
        assert sorted(workers["pack"].unique()) == [0, 1]
        assert workers.loc[workers["worker_id"] == 0, "total"].item() == workers["hits"].sum()


def test_project_configs_come_before_the_packages_and_extend_any_group(project, cache_dir):
    done = runner(project, "mode=burst", "workers=2", "app=mcpi_quick", "platform=small",
                  cache_dir=cache_dir)
    assert done.returncode == 0, done.stderr
    assert "from 4000 darts" in done.stdout  # mcpi_quick.yaml: samples 2000 per worker
    saved = (run_dir(done) / ".hydra" / "config.yaml").read_text()
    assert "slots: 16" in saved and "name: mcpi" in saved


def test_a_project_replaces_a_shipped_config(project, cache_dir):
    """A project file named like a shipped one wins: here the ready sweep `startup`."""
    (project / "conf" / "experiment" / "startup.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /app: mcpi_quick\n"
        "hydra:\n  sweeper:\n    params:\n      workers: 2,3\n")
    done = runner(project, "-m", "+experiment=startup", "mode=map", cache_dir=cache_dir)
    assert done.returncode == 0, done.stderr
    sweep = next((project / "outputs" / "sweeps").glob("*/*/sweep_summary.csv"))
    table = pd.read_csv(sweep)
    assert sorted(table["workers"]) == [2, 3] and set(table["app"]) == {"mcpi"}


@pytest.mark.parametrize("how", ["option", "environment"])
def test_the_project_is_found_from_elsewhere_by_option_or_variable(project, cache_dir,
                                                                   tmp_path, how):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    args = ["--project", str(project)] if how == "option" else []
    env = {"BURST_RUNNER_PROJECT": str(project)} if how == "environment" else {}
    done = runner(elsewhere, *args, "mode=map", "workers=2", "app=mcpi_quick",
                  cache_dir=cache_dir, env=env)
    assert done.returncode == 0, done.stderr
    assert run_dir(done).is_relative_to(elsewhere)


def test_shipped_apps_still_run_from_a_project(project, cache_dir):
    done = runner(project, "mode=map", "workers=2", "app=hello", cache_dir=cache_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: 2 workers answered correctly")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"__init__.py": "def broken(:\n"},
         "config error: app=broken: ow_apps/broken/__init__.py cannot be imported: SyntaxError"),
        ({"__init__.py": "def validate(params, ctx, answer):\n    return None\n"},
         "config error: app=broken: ow_apps/broken/__init__.py defines no Params, a @dataclass "
         "extending runner.apps.AppConfig"),
    ],
    ids=["syntax-error", "no-params"],
)
def test_a_broken_app_is_named_in_one_line(project, cache_dir, files, expected):
    folder = project / "ow_apps" / "broken"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    done = runner(project, "mode=map", "workers=1", "app=broken", cache_dir=cache_dir)
    assert done.returncode == 2
    assert done.stderr.strip().startswith(expected), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (project / "outputs").exists()


def test_a_misspelt_option_of_the_project_gets_a_hint(project, cache_dir):
    done = runner(project, "app=mcpi_quik", cache_dir=cache_dir)
    assert done.returncode == 2
    assert done.stderr.startswith("config error: app=mcpi_quik: no such app (did you mean "
                                  "mcpi_quick?); choose one of collectives, hello, "), done.stderr


def test_a_named_project_that_is_not_one_is_a_config_error(tmp_path, cache_dir):
    done = runner(tmp_path, "--project", str(tmp_path / "nowhere"), cache_dir=cache_dir)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"config error: --project={tmp_path / 'nowhere'}: no conf/ "
                                   "or ow_apps/ folder there; a project holds "
                                   "conf/<group>/*.yaml and ow_apps/<app>/__init__.py")


def test_the_readmes_app_works_as_written(tmp_path, cache_dir):
    """The two code blocks of README's "Adding an app", pasted into a project, run in both modes."""
    readme = (SOURCE.parents[2] / "README.md").read_text()
    blocks = re.findall(r"```python\n(# ow_apps/mcpi/(\w+)\.py.*?)```", readme, re.S)
    assert sorted(name for _, name in blocks) == ["__init__", "action"]
    folder = tmp_path / "ow_apps" / "mcpi"
    folder.mkdir(parents=True)
    for text, name in blocks:
        (folder / f"{name}.py").write_text(text)
    shutil.copy(SOURCE / "ow_apps" / "mcpi" / "darts.py", folder)
    for mode in ("map", "burst"):
        done = runner(tmp_path, f"mode={mode}", "workers=4", "burst.granularity=2", "app=mcpi",
                      cache_dir=cache_dir)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("ok: pi ~ 3.1")
