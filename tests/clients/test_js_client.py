"""The official OpenWhisk JavaScript client drives the embedded platform unchanged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("probe.js")


@pytest.fixture(scope="session")
def js_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `openwhisk` npm package, installed from the npm registry into a scratch folder."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run the OpenWhisk JavaScript client")
    folder = tmp_path_factory.mktemp("js-client")
    subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "openwhisk@3"],
                   cwd=folder, check=True, capture_output=True, timeout=300)
    shutil.copy(PROBE, folder / "probe.js")
    return folder


def test_js_client_creates_invokes_and_lists(js_client, standalone_platform):
    done = subprocess.run(["node", "probe.js"], cwd=js_client, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **standalone_platform})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen == {"blocking": {"greeting": "hello js"}, "later": {"greeting": "hello later"},
                    "listed": 2, "actions": ["greet"]}
