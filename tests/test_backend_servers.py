"""Zero set-up: on platform=local a backend's server is started for the run and gone after it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from tests.helpers.running import marked_sleep, wait_running

SERVER_LINE = re.compile(r"backend server: (\S+) at (\S+) \(pid (\d+)\)")


def started_server(log: str) -> tuple[str, int]:
    """The URI and pid of the server the platform's log says it started."""
    match = SERVER_LINE.search(log)
    assert match, f"no backend server line in the platform's log:\n{log[-2000:]}"
    return match.group(2), int(match.group(3))


def assert_gone(uri: str, pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    port = int(re.search(r":(\d+)(?:/|$)", uri.rpartition("@")[2]).group(1))
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


@pytest.mark.parametrize("backend", ["redis", "redis_stream", "rabbitmq", "s3"])
def test_a_burst_on_each_backend_needs_no_server_started_by_hand(run_cli, backend: str) -> None:
    run = run_cli("mode=burst", "workers=16", "burst.granularity=4", "app=collectives",
                  "app.op=all_to_all", f"burst.backend={backend}", "app.payload_kb=64",
                  "app.repetitions=1", timeout=240)
    assert run.returncode == 0, run.stderr
    summary = run.summary
    assert summary["status"] == "ok" and summary["valid"], summary["message"]
    assert summary["backend"] == backend
    uri, pid = started_server((run.run_dir / "platform.log").read_text())
    assert uri.startswith(("redis://", "amqp://", "s3://"))
    assert_gone(uri, pid)


def test_a_missing_server_is_one_config_line_naming_the_package(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "runner", "mode=burst", "burst.backend=redis",
         f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=PROJECT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PATH": str(tmp_path)},  # no redis-server on it
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        "config error: burst.backend=redis on platform=local starts redis-server, but "
        "redis-server is not installed (run `apt-get install redis-server`); or set "
        "burst.backend_uri"
    ]


def test_the_stand_alone_platform_starts_and_stops_its_server(tmp_path: Path) -> None:
    log = tmp_path / "platform.log"
    with log.open("wb") as stderr:
        platform = subprocess.Popen(
            [sys.executable, "-m", "runner.platform", "--port", "0", "--exit-with-stdin",
             "--burst-backend", "redis"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, cwd=PROJECT,
        )
        props = dict(platform.stdout.readline().decode().strip().split("=", 1) for _ in range(2))
        assert props["APIHOST"].startswith("http://127.0.0.1:")
        uri, pid = started_server(log.read_text())
        socket.create_connection(("127.0.0.1", int(uri.rsplit(":", 1)[1])), timeout=2).close()
        platform.stdin.close()
        assert platform.wait(timeout=30) == 0
    assert_gone(uri, pid)


def test_a_uri_for_another_server_is_refused_at_start() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "runner.platform", "--burst-backend", "rabbitmq",
         "--backend-uri", "redis://127.0.0.1:1"],
        cwd=PROJECT, capture_output=True, text=True, timeout=30,
    )
    assert completed.returncode == 1
    assert completed.stderr.strip() == (
        "--burst-backend rabbitmq needs a rabbitmq server: --backend-uri must start with "
        "amqp:// or amqps://"
    )


def test_ctrl_c_stops_the_server_too(tmp_path: Path, cache_dir: Path, data_dir: Path) -> None:
    run_dir = tmp_path / "run"
    action, markers = marked_sleep(tmp_path)
    runner = subprocess.Popen(
        [sys.executable, "-m", "runner", "mode=burst", "workers=2", "app=sleep",
         "app.sleep_ms=60000", f"app.action={action}", "burst.backend=redis",
         f"hydra.run.dir={run_dir}",
         f"build.cache_dir={cache_dir}", f"data_dir={data_dir}"],
        cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    log = run_dir / "platform.log"
    until = time.monotonic() + 60
    while not (log.exists() and SERVER_LINE.search(log.read_text())):
        assert time.monotonic() < until and runner.poll() is None, "the run never started"
        time.sleep(0.1)
    uri, pid = started_server(log.read_text())
    wait_running(markers, 2, runner)  # the burst runs on the server the run started
    runner.send_signal(signal.SIGINT)
    assert runner.wait(timeout=60) == 130, runner.stderr.read().decode()
    assert_gone(uri, pid)


def test_the_s3_server_answers_a_put_whose_object_a_receiver_already_deleted() -> None:
    """The race a polling receiver wins: it reads and deletes the object before moto answers
    the PUT, whose answer carries the object's ETag (stock moto then reads a closed buffer,
    answers 500, and boto3's retry stores the consumed message again)."""
    import hashlib

    from moto.s3.models import FakeKey

    from runner.platform.s3_server import install_eager_etag

    install_eager_etag()
    body = os.urandom(3 << 20)
    stored = FakeKey("burst/b/0/1/0/0", body, account_id="123456789012", region_name="us-east-1")
    stored.dispose()  # the receiver's DELETE
    assert stored.etag == f'"{hashlib.md5(body).hexdigest()}"'  # the PUT's answer
