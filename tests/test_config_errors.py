"""Bad config values end with one line naming the key, exit code 2, and no traceback."""

from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["workers=0"], "workers=0: must be an integer >= 1"),
        (["workers=abc"], "workers"),
        (["mode=foo"], "mode: Invalid value 'foo', expected one of [map, burst]"),
        (["burst.granularity=-1"], "burst.granularity=-1: must be an integer >= 1"),
        (["app=foo"], "app=foo: no such app; choose one of "),
        (["platform=nope"], "platform=nope: no such platform; choose one of local, openwhisk"),
        (["app=sleep", "app.sleep_ms=x"], "app.sleep_ms"),
        (["burst.backend=redis"], "burst.backend=redis needs burst.backend_uri"),
        (["burst.backend=carrier-pigeon"], "burst.backend: Invalid value 'carrier-pigeon'"),
        (["invoke.concurrency=0"], "invoke.concurrency=0"),
        (["wait.poll_rate=0"], "wait.poll_rate=0.0: must be > 0 (list requests per second)"),
    ],
)
def test_config_error_is_one_line_with_exit_code_2(run_cli, overrides, expected):
    run = run_cli(*overrides, timeout=60)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("config error: ")
    assert expected in lines[0]
    assert "Traceback" not in run.stderr


def test_unknown_app_lists_every_configured_app(run_cli):
    conf_apps = Path(__file__).parent.parent / "conf" / "app"
    configured = sorted(p.stem for p in conf_apps.glob("*.yaml"))
    run = run_cli("app=foo", timeout=60)
    assert run.stderr.strip().endswith("choose one of " + ", ".join(configured))


def test_debug_adds_the_traceback_to_a_composition_error(run_cli):
    run = run_cli("app=foo", "debug=true", timeout=60)
    assert run.returncode == 2
    assert run.stderr.startswith("config error: app=foo: no such app")
    assert "Traceback" in run.stderr and "MissingConfigException" in run.stderr
