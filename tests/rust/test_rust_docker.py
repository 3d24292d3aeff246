"""The Rust data apps' burst crates for the burst fork: `app.build=docker` hands the fork's
image exactly the crate, and that zip, unpacked where the fork's build puts an action (the
middleware beside it), compiles as it is.

Docker cannot run here: a stand-in `docker` on PATH records its argv and stdin, then fails
as Docker's client does without a daemon.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from runner.build.cargo import DEBIAN_REGISTRY, MIDDLEWARE_CRATE, SOURCE_REPLACEMENT

ROOT = Path(__file__).resolve().parents[2]
FAKE_DOCKER = """#!{python}
import json, sys
data = sys.stdin.buffer.read()
open({record!r}, "w").write(json.dumps(sys.argv[1:]))
open({record!r} + ".zip", "wb").write(data)
sys.stderr.write("docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                 "Is the docker daemon running?.\\n")
sys.exit(125)
"""


def _sent_to_docker(tmp_path: Path, cache_dir: Path, data_dir: Path, app: str) -> Path:
    """Runs the app as a Rust burst built by docker; returns the zip the stand-in received."""
    tools = tmp_path / "bin"
    tools.mkdir()
    record = tmp_path / "docker-call.json"
    (tools / "docker").write_text(FAKE_DOCKER.format(python=sys.executable, record=str(record)))
    (tools / "docker").chmod(0o755)
    done = subprocess.run(
        [sys.executable, "-m", "runner", "mode=burst", "workers=2", f"app={app}",
         "app.lang=rust", "app.build=docker", f"hydra.run.dir={tmp_path / 'run'}",
         f"build.cache_dir={cache_dir}", f"data_dir={data_dir}"],
        cwd=ROOT, env={**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().startswith(
        "error: docker run burstcomputing/runtime-rust-burst:latest -compile failed (exit 125)")
    assert json.loads(record.read_text()) == [
        "run", "--rm", "-i", "burstcomputing/runtime-rust-burst:latest", "-debug", "-compile",
        "main"]
    return Path(f"{record}.zip")


@pytest.mark.parametrize("app", ["kmeans", "terasort", "pagerank"])
def test_the_burst_crate_goes_to_the_forks_image_as_it_is_and_builds_alone(
        tmp_path, cache_dir, data_dir, app):
    crate = ROOT / "ow_apps" / app / "rust_burst"
    sent = _sent_to_docker(tmp_path, cache_dir, data_dir, app)
    with zipfile.ZipFile(sent) as archive:
        assert sorted(archive.namelist()) == sorted(
            path.relative_to(crate).as_posix() for path in crate.rglob("*") if path.is_file())
        archive.extractall(tmp_path / "fork" / "actions")
    # the fork's layout: the action crate, and the middleware next to it
    shutil.copytree(MIDDLEWARE_CRATE, tmp_path / "fork" / "burst-communication-middleware")
    (tmp_path / "fork" / ".cargo").mkdir()
    (tmp_path / "fork" / ".cargo" / "config.toml").write_text(
        SOURCE_REPLACEMENT.format(registry=json.dumps(str(DEBIAN_REGISTRY))))
    # a workspace around the action, as the fork's build has: the crate's files stay untouched
    (tmp_path / "fork" / "Cargo.toml").write_text('[workspace]\nmembers = ["actions"]\n')
    work = cache_dir / "cargo"  # the build step's: the dependencies it compiled are reused
    built = subprocess.run(
        ["cargo", "build", "--release", "--offline", "--lib"], cwd=tmp_path / "fork" / "actions",
        env={**os.environ, "CARGO_HOME": str(work / "home"),
             "CARGO_TARGET_DIR": str(work / "target"), "CARGO_TERM_COLOR": "never"},
        capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    assert "Compiling actions v0.1.0" in built.stderr
