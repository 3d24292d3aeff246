"""Bad input through the CLI: one line on stderr naming the problem, the right exit code.

Config errors (exit 2) are found before anything runs; a wrong key or an
unreachable controller is found by running (exit 1). Neither prints a
traceback unless `debug=true` asks for one. tests/test_config_errors.py
covers the values this file does not.
"""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

PROJECT = Path(__file__).resolve().parent.parent.parent


def _one_line(run, exit_code: int, prefix: str) -> str:
    assert run.returncode == exit_code, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(prefix), lines[0]
    return lines[0]


CONFIG_ERRORS = [
    (["burst.chunk_size=0"], "burst.chunk_size=0: must be an integer >= 1"),
    (["wait.timeout_s=0"], "wait.timeout_s=0.0: must be > 0"),
    (["wait.timeout_s=-5"], "wait.timeout_s=-5.0: must be > 0"),
    (["app.memory=1"], "app.memory=1: must be an integer >= 128"),
    (["app.timeout_ms=10"], "app.timeout_ms=10: must be an integer >= 100"),
    (["platform.invokers=0"], "platform.invokers=0: must be an integer >= 1"),
    (["platform.slots=0"], "platform.slots=0: must be an integer >= 1"),
    (["repeat=0"], "repeat=0: must be an integer >= 1"),
    (["repeat=two"], "repeat=two: must be an integer >= 1"),
    (["invoke.blocking=maybe"], "invoke.blocking: Value 'maybe' is not a valid bool (type str)"),
    (["storage=nfs"], "storage=nfs: no such storage; choose one of local, s3"),
    (["mode=burst", "workers=4", "burst.granularity=5"],
     "burst.granularity=5 > workers=4: a pack cannot hold more workers than the burst has"),
    (["app=sleep", "app.action=/nonexistent.py"],
     "app.action=/nonexistent.py: no such Python file or package (with __init__.py)"),
    (["app=hello", "app.build=prebuilt", "app.action=action.py"],
     "app.action=action.py: app.build=prebuilt takes the path of a .zip"),
    (["app=hello", "app.build=prebuilt", "app.action=/nonexistent.zip"],
     "app.action=/nonexistent.zip: no such file"),
]


@pytest.mark.parametrize(("overrides", "expected"), CONFIG_ERRORS,
                         ids=[" ".join(overrides) for overrides, _ in CONFIG_ERRORS])
def test_bad_value_is_one_config_error_line(run_cli, overrides, expected):
    line = _one_line(run_cli(*overrides, timeout=60), 2, "config error: ")
    assert line == f"config error: {expected}"


def test_a_directory_given_as_the_action_file_is_a_config_error(run_cli, tmp_path):
    # What "unreadable" means to root, who reads files whatever their mode.
    folder = tmp_path / "action.py"
    folder.mkdir()
    line = _one_line(run_cli("app=sleep", f"app.action={folder}", timeout=60), 2, "config error: ")
    assert line == (f"config error: app.action={folder}: "
                    "no such Python file or package (with __init__.py)")


# linux/capability.h and linux/prctl.h
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2
PR_CAPBSET_DROP = 24


def _as_any_user() -> None:
    """Run in the child before exec: drops the two capabilities that let root read a file
    whatever its mode, so a chmod 000 file is as unreadable to root as to anyone."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) refused")


def test_an_unreadable_action_file_says_so(tmp_path, cache_dir, data_dir):
    action = tmp_path / "action.py"
    action.write_text("def main(args):\n    return {}\n")
    action.chmod(0)
    run_dir = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "runner", "mode=map", "workers=1", "app=sleep",
         f"app.action={action}", f"hydra.run.dir={run_dir}", f"build.cache_dir={cache_dir}",
         f"data_dir={data_dir}"],
        cwd=PROJECT, capture_output=True, text=True, timeout=120,
        preexec_fn=_as_any_user if os.geteuid() == 0 else None)
    line = _one_line(done, 1, "error: ")
    assert line == f"error: [Errno 13] Permission denied: '{action}'"
    assert pd.read_csv(run_dir / "summary.csv").iloc[0]["status"] == "error"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({"__main__.py": "def main(args):\n    return {}\n"},
         "has no `exec` at its root (it holds __main__.py)"),
        (b"this is not a zip", "is not a zip archive (File is not a zip file)"),
    ],
    ids=["without-exec", "not-a-zip"],
)
def test_a_prebuilt_zip_that_cannot_run_is_refused_before_deploying(
        run_cli, tmp_path, content, problem):
    archive = tmp_path / "action.zip"
    if isinstance(content, bytes):
        archive.write_bytes(content)
    else:
        with zipfile.ZipFile(archive, "w") as zipped:
            for name, text in content.items():
                zipped.writestr(name, text)
    run = run_cli("mode=map", "workers=1", "app=hello", "app.build=prebuilt",
                  f"app.action={archive}")
    line = _one_line(run, 1, "error: ")  # a build error: the value is fine, the file is not
    assert line == f"error: app.action={archive} {problem}"
    # never deployed: the column is there (the summary has fixed columns), its value is not
    assert run.summary["status"] == "error" and pd.isna(run.summary["deploy_ms"])


WRONG_KEY = ("error: HTTP 401: the controller rejected the key: check platform.auth "
             "(or AUTH in ~/.wskprops)")


def test_a_wrong_key_is_one_line_naming_the_setting(run_cli, standalone_platform):
    run = run_cli("platform=openwhisk", f"platform.api_host={standalone_platform['APIHOST']}",
                  "platform.auth=wrong:key", "mode=map", "workers=2", "app=sleep")
    assert _one_line(run, 1, "error: ") == WRONG_KEY
    assert run.summary["status"] == "error"
    assert f"run directory: {run.run_dir}" in run.stdout


def test_debug_adds_the_traceback(run_cli, standalone_platform):
    run = run_cli("platform=openwhisk", f"platform.api_host={standalone_platform['APIHOST']}",
                  "platform.auth=wrong:key", "mode=map", "workers=2", "app=sleep", "debug=true")
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert lines[0] == WRONG_KEY
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1].startswith("runner.client.openwhisk.OpenWhiskError: HTTP 401")

    config = run_cli("workers=0", "debug=true", timeout=60)
    assert config.returncode == 2
    lines = config.stderr.strip().splitlines()
    assert lines[0] == "config error: workers=0: must be an integer >= 1"
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "runner.config.errors.ConfigError: workers=0: must be an integer >= 1"


def test_an_address_that_refuses_connections_ends_at_once_with_one_line(run_cli):
    # a refusal is retried briefly (a controller may be restarting), not for the ~13 s of
    # backoff that timeouts and throttling get
    run = run_cli("platform=openwhisk", "platform.api_host=http://127.0.0.1:9",
                  "platform.auth=any:key", "mode=map", "workers=2", "app=sleep")
    assert _one_line(run, 1, "error: ") == (
        "error: cannot reach http://127.0.0.1:9: connection refused for 1.5 s (nothing listens "
        "there: check platform.api_host, or APIHOST in ~/.wskprops, or whether the platform "
        "stopped)")
    assert run.summary["status"] == "error"
    assert run.summary["total_ms"] < 3000, run.summary["total_ms"]


@pytest.fixture
def hangs_up() -> Iterator[str]:
    """An address that accepts every connection and closes it unanswered: a broken gateway."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.close()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    server.join(timeout=5)
    listener.close()


def test_an_address_that_never_answers_ends_after_retries_with_one_line(run_cli, hangs_up):
    run = run_cli("platform=openwhisk", f"platform.api_host={hangs_up}", "platform.auth=any:key",
                  "mode=map", "workers=2", "app=sleep")
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    # the retries are said once, before the line that ends the run
    assert lines[-1] == (f"error: cannot reach {hangs_up}: ConnectionError (check "
                         "platform.api_host, or APIHOST in ~/.wskprops)")
    assert len(lines) == 2 and lines[0].startswith(
        f"waiting: {hangs_up} did not answer (ConnectionError); retrying"), lines
    assert run.summary["status"] == "error"


API_HOST_ERRORS = [
    ("127.0.0.1:3233",
     "needs a scheme: http://127.0.0.1:3233 or https://127.0.0.1:3233"),
    ("ftp://127.0.0.1:3233", "the scheme must be http:// or https://"),
    ("http://127.0.0.1:99999", "the port must be a number in 1..65535"),
    ("http://127.0.0.1:0", "the port must be a number in 1..65535"),
    ("http://127.0.0.1:port", "the port must be a number in 1..65535"),
    ("http://no-such-host.invalid:3233", "unknown host no-such-host.invalid ("),
]


@pytest.mark.parametrize(("api_host", "problem"), API_HOST_ERRORS,
                         ids=[api_host for api_host, _ in API_HOST_ERRORS])
def test_a_bad_api_host_is_a_config_error_before_any_request(run_cli, api_host, problem):
    run = run_cli("platform=openwhisk", f"platform.api_host={api_host}", "platform.auth=any:key",
                  "mode=map", "workers=2", "app=sleep", timeout=60)
    line = _one_line(run, 2, "config error: ")
    assert line.startswith(f"config error: platform.api_host={api_host}: {problem}"), line
    assert not run.run_dir.exists()  # refused before the run started


def test_an_apihost_without_scheme_in_wskprops_means_https_as_for_wsk(run_cli, tmp_path,
                                                                     monkeypatch):
    # `wsk property set --apihost host:port` writes no scheme; wsk itself then speaks https
    props = tmp_path / "wskprops"
    props.write_text("APIHOST=127.0.0.1:9\nAUTH=any:key\n")
    monkeypatch.setenv("WSK_CONFIG_FILE", str(props))
    run = run_cli("platform=openwhisk", "mode=map", "workers=2", "app=sleep")
    assert _one_line(run, 1, "error: ").startswith(
        "error: cannot reach https://127.0.0.1:9: connection refused")


def test_a_map_only_action_run_as_a_burst_is_refused_before_deploying(run_cli, tmp_path):
    action = tmp_path / "action.py"
    action.write_text("import time\n\n\ndef main(args):\n    time.sleep(args['sleep_ms'] / 1000)"
                      "\n    return {'slept_ms': args['sleep_ms']}\n")
    run = run_cli("mode=burst", "workers=2", "app=sleep", f"app.action={action}", timeout=60)
    line = _one_line(run, 2, "config error: ")
    assert line == (f"config error: app.action: main() in {action} takes one argument, but "
                    "burst mode calls main(args, burst): give it a second parameter, or run "
                    "mode=map")
    # the same action is fine as a map
    assert run_cli("mode=map", "workers=2", "app=sleep", "app.sleep_ms=10",
                   f"app.action={action}", timeout=60).returncode == 0
