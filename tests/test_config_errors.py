"""Bad config values end with one line naming the key, exit code 2, no traceback, no run dir."""

import re
from pathlib import Path

import pytest

PACKAGE_APPS = Path(__file__).resolve().parent.parent / "ow_apps"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["workers=0"], "workers=0: must be an integer >= 1"),
        (["workers=1000000000"], "workers=1000000000: at most 1,000,000 (the runner keeps a few "
                                 "KB in memory per worker)"),
        (["workers=abc"], "workers"),
        (["mode=foo"], "mode: Invalid value 'foo', expected one of [map, burst]"),
        (["burst.granularity=-1"], "burst.granularity=-1: must be an integer >= 1"),
        (["app=foo"], "app=foo: no such app; choose one of "),
        (["platform=nope"], "platform=nope: no such platform; choose one of local, openwhisk"),
        (["app=sleep", "app.sleep_ms=x"], "app.sleep_ms"),
        (["burst.backend=redis", "burst.backend_uri=amqp://127.0.0.1"],
         "burst.backend_uri=amqp://127.0.0.1: burst.backend=redis needs a redis server, a URI "
         "starting with redis:// or rediss:// or unix://"),
        (["burst.backend=carrier-pigeon"],
         "burst.backend: Invalid value 'carrier-pigeon', expected one of [local, redis, "
         "redis_list, redis_stream, rabbitmq, s3]"),
        (["invoke.concurrency=0"], "invoke.concurrency=0"),
        (["wait.poll_rate=0"], "wait.poll_rate=0.0: must be > 0 (list requests per second)"),
        # a key of another option of the same group
        (["platform=openwhisk", "platform.slots=4"],
         "platform.slots: not a setting of platform=openwhisk; its settings: name, api_host, "
         "auth, namespace, insecure, ca_bundle"),
        (["storage=local", "storage.bucket=nope"],
         "storage.bucket: not a setting of storage=local; its settings: kind, path"),
        (["platform.api_host=https://x"], "platform.api_host: not a setting of platform=local"),
        # a typo of a key of the app's schema
        (["app=pagerank", "app.tolerence=0.5"],
         "app.tolerence: not a setting of app=pagerank (did you mean tolerance?)"),
        (["app=kmeans", "app.memroy=512"], "(did you mean memory?)"),
        (["wait.timeout=5"], "wait.timeout: not a setting of wait (did you mean timeout_s?)"),
    ],
)
def test_config_error_is_one_line_with_exit_code_2_and_leaves_no_run_dir(
        run_cli, overrides, expected):
    run = run_cli(*overrides, timeout=60)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("config error: ")
    assert expected in lines[0]
    assert "Traceback" not in run.stderr
    assert not run.run_dir.exists(), sorted(p.name for p in run.run_dir.iterdir())


def test_a_key_of_the_apps_schema_is_settable_without_plus(run_cli):
    """pagerank's yaml-free defaults: `tolerance` is set like any key, and is what ran."""
    run = run_cli("app=pagerank", "mode=map", "workers=2", "app.tolerance=0.5",
                  "app.nodes=500", "app.edges=2000", timeout=120)
    assert run.returncode == 0, run.stderr
    assert "ranks match NumPy after 2 iterations" in run.stdout


def test_unknown_app_lists_every_app_there_is(run_cli):
    apps = sorted(p.name for p in PACKAGE_APPS.iterdir() if (p / "__init__.py").is_file())
    run = run_cli("app=foo", timeout=60)
    assert run.stderr.strip().endswith("choose one of " + ", ".join(apps))


def test_debug_adds_the_traceback_to_a_composition_error(run_cli):
    run = run_cli("app=foo", "debug=true", timeout=60)
    assert run.returncode == 2
    assert run.stderr.startswith("config error: app=foo: no such app")
    assert "Traceback" in run.stderr and "MissingConfigException" in run.stderr


def test_an_override_hydra_cannot_parse_says_how_to_quote_it(run_cli):
    run = run_cli("mode=[", timeout=60)
    assert run.returncode == 2, run.stderr
    [line] = run.stderr.splitlines()
    assert re.fullmatch(r"config error: mode=\[: Hydra cannot parse this override \(.+\); "
                        r"quote a value with special characters: 'mode=\"\.\.\.\"'", line), line
    assert not run.run_dir.exists()
