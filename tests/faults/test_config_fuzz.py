"""Random configurations through the real CLI: never a traceback, only exit codes 0, 1 or 2,
and a config error is always one line naming a key.

Overrides are drawn from the schema's own keys (the experiment's, a cluster's, a storage
option's, the chosen app's) with values of any type, range and size. Each run targets an
address where nothing listens, so a configuration that passes every check ends at its
first request (exit 1) instead of running a random experiment; keys that would reach
beyond this machine (a package index through `app.requirements`, other hosts) or write
outside the test's directories are left out.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import socket
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.config import schema

PROJECT = Path(__file__).resolve().parent.parent.parent
APPS = ["hello", "sleep", "collectives", "kmeans", "terasort", "pagerank"]
# where files land, what the user asks to see (tracebacks), what reaches other machines
LEFT_OUT = {"debug", "build", "data_dir", "platform", "storage", "app", "requirements", "path",
            "api_host", "endpoint_url", "name"}
EXAMPLES = int(os.environ.get("CONFIG_FUZZ_EXAMPLES", "20"))
# a run whose every check passed ends at its first request; a Rust build takes longest
RUN_TIMEOUT_S = 60


def _keys(prefix: str, node: type) -> list[str]:
    """Every settable key of a schema dataclass, nested ones dotted."""
    keys = []
    for item in dataclasses.fields(node):
        if item.name in LEFT_OUT:
            continue
        default = item.default_factory() if item.default_factory is not dataclasses.MISSING \
            else None
        if dataclasses.is_dataclass(default):
            keys += _keys(f"{prefix}{item.name}.", type(default))
        else:
            keys.append(f"{prefix}{item.name}")
    return keys


def _app_keys(app: str) -> list[str]:
    return _keys("app.", importlib.import_module(f"ow_apps.{app}").Params)


EXPERIMENT_KEYS = _keys("", schema.ExperimentConfig)
CLUSTER_KEYS = _keys("platform.", schema.ClusterPlatform)
STORAGE_KEYS = _keys("storage.", schema.S3Storage) + _keys("storage.", schema.LocalStorage)

values = st.one_of(
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.sampled_from([0, 1, -1, 2 ** 31, 2 ** 63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.just(""), st.just("null"), st.just("[]"), st.just("[1,2]"), st.just("{}"),
    # any character a command line can carry (no NUL: no program can be given one)
    st.text(alphabet=st.characters(exclude_characters="\x00"), max_size=20),
    st.text(alphabet="abc${}[]=,:'\" \\", max_size=12),
    st.text(min_size=3000, max_size=5000, alphabet="xyz/."),
)


def _render(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@st.composite
def configurations(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """(overrides, the keys they set): a few random keys of the chosen options."""
    app = draw(st.sampled_from(APPS))
    storage = draw(st.sampled_from(["local", "s3"]))
    pool = EXPERIMENT_KEYS + CLUSTER_KEYS + STORAGE_KEYS + _app_keys(app)
    keys = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
    overrides = [f"app={app}", f"storage={storage}"]
    overrides += [f"{key}={_render(draw(values))}" for key in keys]
    return overrides, keys


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(configuration=configurations())
def test_random_overrides_end_in_one_line_and_a_known_exit_code(configuration, tmp_path,
                                                                cache_dir):
    overrides, keys = configuration
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "runner", "platform=openwhisk",
               f"platform.api_host=http://127.0.0.1:{_closed_port()}", "platform.auth=u:k",
               *overrides, f"hydra.run.dir={work / 'run'}", f"build.cache_dir={cache_dir}",
               f"data_dir={work / 'data'}"]
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    try:
        done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{overrides}: still running after {RUN_TIMEOUT_S} s") from None
    shown = f"{overrides}\nexit {done.returncode}\n{done.stderr[-3000:]}"
    assert done.returncode in (0, 1, 2), shown
    assert "Traceback" not in done.stderr, shown
    lines = done.stderr.strip().splitlines()
    if done.returncode == 2:
        assert len(lines) == 1 and lines[0].startswith("config error: "), shown
        named = [key for key in [*keys, "app", "storage"] if key.rpartition(".")[2] in lines[0]]
        assert named, f"the line names none of the keys set: {shown}"
    elif done.returncode == 1:
        assert len(lines) == 1 and lines[0].startswith(("error: ", "failed: ")), shown
