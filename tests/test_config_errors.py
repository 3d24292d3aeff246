"""Bad config values end with one line naming the key, exit code 2, and no traceback."""

import pytest


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["workers=0"], "workers=0: must be an integer >= 1"),
        (["workers=abc"], "workers"),
        (["mode=foo"], "mode: Invalid value 'foo', expected one of [map, burst]"),
        (["burst.granularity=-1"], "burst.granularity=-1: must be an integer >= 1"),
        (["app=foo"], "app=foo: no such app; choose one of hello, sleep"),
        (["platform=nope"], "platform=nope: no such platform; choose one of local, openwhisk"),
        (["app=sleep", "app.sleep_ms=x"], "app.sleep_ms"),
        (["burst.backend=redis"], "burst.backend=redis needs burst.backend_uri"),
        (["burst.backend=carrier-pigeon"], "burst.backend: Invalid value 'carrier-pigeon'"),
        (["invoke.concurrency=0"], "invoke.concurrency=0"),
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
