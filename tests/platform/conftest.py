"""Fixtures for the embedded platform: a real server subprocess and real action zips."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]

# A conforming action loop: one JSON line in on stdin, one answer on fd 3.
# The params steer it so every failure mode can be provoked over the API.
ECHO_EXEC = r"""#!/usr/bin/env python3
import json, os, subprocess, sys, time

answers = os.fdopen(3, "w")
if os.environ.get("__OW_WAIT_FOR_ACK"):
    answers.write('{"ok": true}\n')
    answers.flush()
for raw in sys.stdin:
    msg = json.loads(raw)
    value = msg["value"]
    line = {k: v for k, v in msg.items() if k != "value"}
    if isinstance(value, list):
        uri = line["middleware"]["backend_info"]["uri"]
        print("pack", line["invoker_id"], flush=True)
        time.sleep(max(p.get("sleep", 0) for p in value))
        result = [{"params": p, "line": line, "dir_exists": os.path.isdir(uri)} for p in value]
    else:
        if "pidfile" in value:
            pids = [os.getpid()]
            if value.get("spawn"):
                pids.append(subprocess.Popen(["sleep", "60"]).pid)
            with open(value["pidfile"], "w") as f:
                f.write(" ".join(map(str, pids)))
        print(value.get("say", "hello"), flush=True)
        print("to stderr", file=sys.stderr, flush=True)
        time.sleep(value.get("sleep", 0))
        if "alloc_mb" in value:
            hog = bytearray(value["alloc_mb"] * 2**20)  # MemoryError beyond the limit ends us
        if "exit" in value:
            sys.exit(value["exit"])
        if value.get("garbage"):
            answers.write("this is not json\n")
            answers.flush()
            continue
        result = {
            "pid": os.getpid(),
            "params": value,
            "line": line,
            "ack": os.environ.get("__OW_WAIT_FOR_ACK"),
            "api_host": os.environ.get("__OW_API_HOST"),
            "python": sys.executable,
        }
        if "error" in value:
            result = {"error": value["error"]}
        if "pad_kb" in value:
            result["pad"] = "x" * (value["pad_kb"] * 1024)
    answers.write(json.dumps(result) + "\n")
    answers.flush()
"""


def make_zip(files: dict[str, str]) -> str:
    """A base64 zip holding ``files`` (name -> text); ``exec`` gets mode 755."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o755 if name == "exec" else 0o644) << 16
            archive.writestr(info, text)
    return base64.b64encode(buffer.getvalue()).decode()


ECHO_ZIP = make_zip({"exec": ECHO_EXEC})


def notes(record: dict[str, Any]) -> dict[str, Any]:
    """An activation's annotations as a dict."""
    return {a["key"]: a["value"] for a in record["annotations"]}


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Platform:
    """A running ``python -m runner.platform`` and a client session for it.

    Tests reach the helpers through this object (test modules cannot import conftest).
    """

    make_zip = staticmethod(make_zip)
    default_zip = ECHO_ZIP
    alive = staticmethod(alive)
    notes = staticmethod(notes)

    def __init__(self, proc: subprocess.Popen[str], apihost: str, auth: str, workdir: Path):
        self.proc = proc
        self.apihost = apihost
        self.auth = tuple(auth.split(":", 1))
        self.workdir = workdir
        self.base = f"{apihost}/api/v1/namespaces/_"
        self.http = requests.Session()
        self.http.auth = self.auth

    def put(self, name: str, code: str = ECHO_ZIP, **fields: Any) -> requests.Response:
        body = {"exec": {"kind": "blackbox", "code": code, "binary": True}, **fields}
        return self.http.put(f"{self.base}/actions/{name}?overwrite=true", json=body)

    def invoke(self, name: str, params: Any = None, **query: str) -> requests.Response:
        return self.http.post(f"{self.base}/actions/{name}", json=params, params=query)

    def activation(self, activation_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """Poll until the activation record exists (it does once the activation ended)."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.http.get(f"{self.base}/activations/{activation_id}")
            if response.status_code == 200:
                return response.json()
            assert response.status_code == 404, response.text
            assert time.monotonic() < deadline, f"activation {activation_id} never ended"
            time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.stdin:
            self.proc.stdin.close()
        return self.proc.wait(timeout)


def start_platform(
    workdir: Path, *extra: str, log: Path | None = None, env: dict[str, str] | None = None
) -> Platform:
    """Start a platform; its stderr goes to ``log`` if given (else to the test's output)."""
    stderr = log.open("w") if log is not None else None
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runner.platform",
            "--port",
            "0",
            "--exit-with-stdin",
            "--workdir",
            str(workdir),
            *extra,
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
        text=True,
    )
    if stderr is not None:
        stderr.close()  # the child has its own copy
    assert proc.stdout is not None
    stdout = proc.stdout
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend([stdout.readline(), stdout.readline()]))
    reader.start()
    reader.join(15)
    if reader.is_alive() or not all(lines):
        proc.kill()
        pytest.fail(f"the platform did not announce APIHOST/AUTH (got {lines!r})")
    lines = [line.strip() for line in lines]
    assert lines[0].startswith("APIHOST=http://127.0.0.1:"), lines
    assert lines[1].startswith("AUTH="), lines
    return Platform(proc, lines[0][len("APIHOST=") :], lines[1][len("AUTH=") :], workdir)


@pytest.fixture
def platform_factory(tmp_path: Path) -> Iterator[Callable[..., Platform]]:
    """Start extra servers (stopped at teardown if a test left them running)."""
    started: list[Platform] = []

    def start(*extra: str, **options: Any) -> Platform:
        started.append(start_platform(tmp_path / f"wd{len(started)}", *extra, **options))
        return started[-1]

    yield start
    for server in started:
        if server.proc.poll() is None:
            try:
                server.stop()  # as a user stops it: its processes and cgroups go with it
            except subprocess.TimeoutExpired:
                server.proc.kill()
                server.proc.wait()


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """One server for the API tests; stopping it through stdin EOF is itself checked."""
    workdir = tmp_path_factory.mktemp("platform") / "wd"
    server = start_platform(workdir, "--slots", "16")
    try:
        yield server
    finally:
        code = server.stop()
        assert code == 0
        assert not workdir.exists()
