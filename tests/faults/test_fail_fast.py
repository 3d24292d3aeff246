"""Failing fast and saying why: each case ends within seconds with one line naming the cause,
and keeps what was measured (the run directory's rows and summary)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from runner.rundir.summary import STEPS

PROJECT = Path(__file__).resolve().parent.parent.parent


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_validation_is_skipped_when_workers_failed(run_cli, tmp_path):
    # every worker fails at once; checking its answer would recompute the CRCs of 200
    # rounds of 4 MiB all-to-all messages (tens of seconds) for results that do not exist
    action = tmp_path / "action.py"
    action.write_text("def main(args, burst=None):\n"
                      "    raise ValueError(f\"worker {burst.worker_id} gives up\")\n")
    run = run_cli("mode=burst", "workers=4", "app=collectives", "app.op=all_to_all",
                  "app.payload_kb=4096", "app.repetitions=200", "app.memory=256",
                  f"app.action={action}")
    assert run.returncode == 1
    assert _one_line(run.stderr) == (
        "failed: 4 of 4 workers failed; worker 0: ValueError: worker 0 gives up")
    summary = run.summary
    assert summary["validation"] == "skipped: 4 workers failed, so their results are missing"
    assert not summary["valid"]
    assert summary["validate_ms"] < 100, summary["validate_ms"]
    assert len(run.csv("workers.csv")) == 4


def test_activations_still_running_at_the_deadline_end_the_run_in_one_line(run_cli):
    run = run_cli("mode=map", "workers=2", "app=sleep", "app.sleep_ms=600000",
                  "wait.timeout_s=5")
    assert run.returncode == 1
    assert _one_line(run.stderr) == (
        "error: 2 activations unfinished after 5 s (raise wait.timeout_s to wait longer)")
    workers = run.csv("workers.csv")
    assert sorted(workers["worker_id"]) == [0, 1] and (workers["status"] == "unfinished").all()
    assert run.summary["status"] == "error"


SYNTAX_ERROR = "def main(args):\n    if args\n        return {}\n"


def test_a_python_syntax_error_stops_the_build_naming_the_users_file(run_cli, tmp_path):
    action = tmp_path / "my_action.py"
    action.write_text(SYNTAX_ERROR)
    run = run_cli("mode=burst", "workers=4", "app=sleep", f"app.action={action}")
    assert run.returncode == 1
    assert _one_line(run.stderr) == f"error: {action}, line 2: SyntaxError: expected ':'"
    summary = run.summary
    assert summary["status"] == "error"
    assert pd.isna(summary["deploy_ms"]) and pd.isna(summary["run_ms"])  # nothing deployed
    assert not (run.run_dir / "workers.csv").exists()

    # an included helper module is compiled too, under its own name
    helper = tmp_path / "helper.py"
    helper.write_text("x = (\n")
    action.write_text("import helper\n\ndef main(args):\n    return {'slept_ms': 0}\n")
    run = run_cli("mode=map", "workers=1", "app=sleep", f"app.action={action}",
                  f"app.include=[{helper}]")
    assert run.returncode == 1
    assert _one_line(run.stderr) == f"error: {helper}, line 1: SyntaxError: '(' was never closed"


FAKE_DOCKER = """#!{python}
# Docker's client without a daemon, as it answers `docker run`: records what it was asked.
import json, sys
data = sys.stdin.buffer.read()
open({record!r}, "w").write(json.dumps({{"argv": sys.argv[1:], "stdin": len(data)}}))
open({record!r} + ".zip", "wb").write(data)
sys.stderr.write("docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                 "Is the docker daemon running?.\\nSee 'docker run --help'.\\n")
sys.exit(125)
"""


def test_a_failed_docker_build_quotes_dockers_own_error(tmp_path, cache_dir, data_dir):
    tools = tmp_path / "bin"
    tools.mkdir()
    record = tmp_path / "docker-call.json"
    docker = tools / "docker"
    docker.write_text(FAKE_DOCKER.format(python=sys.executable, record=str(record)))
    docker.chmod(0o755)
    run_dir = tmp_path / "run"
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [sys.executable, "-m", "runner", "mode=map", "workers=2", "app=hello", "app.lang=rust",
         "app.build=docker", f"hydra.run.dir={run_dir}", f"build.cache_dir={cache_dir}",
         f"data_dir={data_dir}"],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert _one_line(done.stderr) == (
        "error: docker run openwhisk/action-rust-v1.34 -compile failed (exit 125): docker: "
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker "
        f"daemon running?.; full output in {run_dir / 'build.log'}")
    # the request is the runtime's own `zip -r - * | docker run -i IMAGE -debug -compile main`
    call = json.loads(record.read_text())
    assert call["argv"] == ["run", "--rm", "-i", "openwhisk/action-rust-v1.34", "-debug",
                            "-compile", "main"]
    with zipfile.ZipFile(f"{record}.zip") as sent:
        assert {"Cargo.toml", "src/lib.rs"} <= set(sent.namelist())
    assert "See 'docker run --help'." in (run_dir / "build.log").read_text()


def _finished_run(standalone_platform, tmp_path, cache_dir, data_dir) -> Path:
    run_dir = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "runner", "platform=openwhisk",
         f"platform.api_host={standalone_platform['APIHOST']}",
         f"platform.auth={standalone_platform['AUTH']}", "mode=map", "workers=2", "app=sleep",
         "app.sleep_ms=0", f"hydra.run.dir={run_dir}", f"build.cache_dir={cache_dir}",
         f"data_dir={data_dir}"],
        cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return run_dir


def test_resume_says_how_to_pass_a_key_that_was_not_saved(standalone_platform, tmp_path,
                                                          cache_dir, data_dir):
    run_dir = _finished_run(standalone_platform, tmp_path, cache_dir, data_dir)
    assert standalone_platform["AUTH"] not in (run_dir / ".hydra" / "config.yaml").read_text()
    # no key in the environment, nor in a ~/.wskprops
    env = {k: v for k, v in os.environ.items() if k not in ("__OW_API_KEY", "__OW_API_HOST")}
    env.update(HOME=str(tmp_path), WSK_CONFIG_FILE=str(tmp_path / "none"))

    def resume(*extra: str, environ: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "runner.resume", str(run_dir), *extra],
                              cwd=PROJECT, env=environ, capture_output=True, text=True,
                              timeout=60)

    started = time.monotonic()
    missing = resume(environ=env)
    assert missing.returncode == 2
    assert _one_line(missing.stderr) == (
        "resume: no key for the platform: the run's key was given on the command line, and runs "
        f"save it as REDACTED; pass it again (python -m runner.resume {run_dir} "
        "platform.auth=UUID:KEY), or set __OW_API_KEY or AUTH in ~/.wskprops")
    assert time.monotonic() - started < 10

    # the key is read where a run reads it: the environment, then ~/.wskprops
    from_env = resume(environ={**env, "__OW_API_KEY": standalone_platform["AUTH"]})
    assert from_env.returncode == 0, from_env.stderr
    assert from_env.stdout.startswith("ok: 2 workers slept >= 0 ms")
    props = tmp_path / ".wskprops"
    props.write_text(f"AUTH={standalone_platform['AUTH']}\n")
    from_props = resume(environ={**env, "WSK_CONFIG_FILE": str(props)})
    assert from_props.returncode == 0, from_props.stderr
    assert pd.read_csv(run_dir / "summary.csv").iloc[0]["resumed"]


def _steps_add_up(summary: dict) -> None:
    parts = {step: summary[f"{step}_ms"] for step in STEPS if pd.notna(summary[f"{step}_ms"])}
    accounted = sum(parts.values())
    # what lies between two steps is a few statements: microseconds, not a step's worth
    assert abs(summary["total_ms"] - accounted) <= 10 + summary["total_ms"] * 0.005, (
        summary["total_ms"], parts)


@pytest.mark.parametrize("mode", ["map", "burst"])
def test_the_steps_of_a_run_add_up_to_its_total(run_cli, mode):
    run = run_cli(f"mode={mode}", "workers=4", "app=sleep", "app.sleep_ms=0")
    assert run.returncode == 0, run.stderr
    summary = run.summary
    _steps_add_up(summary)
    # starting and stopping the embedded platform are steps of their own (its interpreter may
    # have started early, while Hydra composed: that part is before the run)
    assert summary["platform_start_ms"] > 0 and summary["platform_stop_ms"] > 0, summary
    assert all(pd.notna(summary[f"{step}_ms"]) for step in STEPS)


def test_the_steps_of_a_failed_run_add_up_too(run_cli, tmp_path):
    action = tmp_path / "action.py"
    action.write_text("def main(args):\n    raise RuntimeError('no')\n")
    run = run_cli("mode=map", "workers=2", "app=sleep", f"app.action={action}")
    assert run.returncode == 1
    _steps_add_up(run.summary)
