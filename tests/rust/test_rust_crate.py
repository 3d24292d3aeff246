"""The middleware crate on its own: it builds without warnings and its unit tests pass."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from runner.build.cargo import DEBIAN_REGISTRY, MIDDLEWARE_CRATE, SOURCE_REPLACEMENT


@pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo (make test installs it)")
def test_the_crate_builds_without_warnings_and_its_unit_tests_pass(tmp_path: Path, cache_dir):
    crate = tmp_path / "crate"
    shutil.copytree(MIDDLEWARE_CRATE, crate)  # cargo writes Cargo.lock beside the manifest
    home = tmp_path / "cargo-home"
    home.mkdir()
    (home / "config.toml").write_text(
        SOURCE_REPLACEMENT.format(registry=json.dumps(str(DEBIAN_REGISTRY))))
    env = {**os.environ, "CARGO_HOME": str(home), "CARGO_TERM_COLOR": "never",
           "CARGO_TARGET_DIR": str(cache_dir / "cargo-crate-test")}
    for command in (["cargo", "build", "--offline"], ["cargo", "test", "--offline"]):
        done = subprocess.run(command, cwd=crate, env=env, capture_output=True, text=True,
                              timeout=600, check=False)
        assert done.returncode == 0, done.stderr
        assert "warning" not in done.stderr, done.stderr
    assert "test result: ok" in done.stdout
