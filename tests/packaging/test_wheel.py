"""`pip install` of the wheel (not editable) into a fresh virtualenv gives a working tool anywhere.

Builds the wheel from this checkout, installs it with its dependencies into a
new virtualenv, and uses it from a directory that has nothing to do with the
checkout: configs, the apps (Python and Rust sources) and the action-loop
template must all come from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pandas as pd
import pytest

PROJECT = Path(__file__).resolve().parents[2]


def _run(command: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)


TOP_LEVEL_DEBRIS = {".venv", ".git", "outputs", "multirun", "build", "dist"}
ANYWHERE_DEBRIS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}


def _not_sources(folder: str, names: list[str]) -> set[str]:
    """What a clean clone would not hold (the package's own runner/build/ is a source)."""
    top = Path(folder) == PROJECT
    return {name for name in names if name in ANYWHERE_DEBRIS or name.endswith(".egg-info")
            or (top and name in TOP_LEVEL_DEBRIS)}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ directory of a fresh virtualenv holding the wheel and its dependencies."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(PROJECT, source, ignore=_not_sources)
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                  str(root / "dist"), str(source)], root)
    assert built.returncode == 0, built.stderr
    wheel = next((root / "dist").glob("burst_runner-*.whl"))
    venv.create(root / "venv", with_pip=True)
    bin_dir = root / "venv" / "bin"
    install = _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], root,
                   timeout=600)
    assert install.returncode == 0, install.stderr
    return bin_dir


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    folder = tmp_path / "anywhere"
    folder.mkdir()
    return folder


def _settings(folder: Path) -> list[str]:
    return [f"build.cache_dir={folder / 'cache'}"]


def test_the_installed_package_is_the_wheels(installed, elsewhere):
    found = _run([str(installed / "python"), "-c",
                  "import runner, ow_apps; print(runner.__file__); print(ow_apps.__file__)"],
                 elsewhere)
    assert found.returncode == 0, found.stderr
    for line in found.stdout.split():
        assert Path(line).is_relative_to(installed.parent), line


@pytest.mark.parametrize("mode", ["map", "burst"])
def test_an_experiment_runs_from_any_directory(installed, elsewhere, mode):
    done = _run([str(installed / "python"), "-m", "runner", f"mode={mode}", "workers=4",
                 "app=hello", *_settings(elsewhere)], elsewhere)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: 4 workers answered correctly")
    summary = pd.read_csv(next((elsewhere / "outputs" / "runs").glob("*/*/summary.csv")))
    assert summary.loc[0, "status"] == "ok" and summary.loc[0, "mode"] == mode


def test_the_console_script_and_compare_work(installed, elsewhere):
    done = _run([str(installed / "burst-runner"), "-m", "mode=map,burst", "workers=2",
                 "app=sleep", "app.sleep_ms=10", *_settings(elsewhere)], elsewhere)
    assert done.returncode == 0, done.stderr
    sweep = next((elsewhere / "outputs" / "sweeps").glob("*/*"))
    compared = _run([str(installed / "python"), "-m", "runner.compare", str(sweep)], elsewhere)
    assert compared.returncode == 0, compared.stderr
    assert (sweep / "comparison.csv").is_file() and "2 runs" in compared.stdout


def test_the_platform_starts_alone(installed, elsewhere):
    helped = _run([str(installed / "python"), "-m", "runner.platform", "--help"], elsewhere)
    assert helped.returncode == 0 and "--burst-backend" in helped.stdout


@pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo (make test installs it)")
def test_a_rust_burst_app_builds_from_the_shipped_crates_and_template(installed, elsewhere):
    # hello's Rust burst action passes its ring and broadcast through the shipped middleware
    # crate, between pack-mates and between the two packs.
    done = _run([str(installed / "python"), "-m", "runner", "mode=burst", "workers=4",
                 "burst.granularity=2", "app=hello", "app.lang=rust", *_settings(elsewhere)],
                elsewhere, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: 4 workers answered correctly")
