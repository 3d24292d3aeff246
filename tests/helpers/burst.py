"""Helpers shared by the burst tests: real action processes and in-process bursts."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runner.burst.pack import run_pack
from runner.burst.spec import parse_pack_line

BURST_SRC = Path(__file__).resolve().parents[2] / "runner" / "burst"

EXEC_SCRIPT = """#!/usr/bin/env python3
import os, sys
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from burst.launcher import serve
serve(module="action", function="main")
"""


def build_action(directory: Path, source: str) -> Path:
    """Lay out an action zip's content: ``exec``, ``action.py`` and the ``burst`` package."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(BURST_SRC, directory / "burst", ignore=shutil.ignore_patterns("__pycache__"))
    (directory / "action.py").write_text(textwrap.dedent(source))
    exec_path = directory / "exec"
    exec_path.write_text(EXEC_SCRIPT.replace("/usr/bin/env python3", sys.executable, 1))
    exec_path.chmod(0o755)
    return directory


class ActionProcess:
    """A running ``exec``: activation lines go to its stdin, answers come back on its fd 3."""

    def __init__(self, directory: Path, env: dict[str, str] | None = None) -> None:
        answer_r, answer_w = os.pipe()
        self.logs = directory / f"logs-{time.monotonic_ns()}.txt"
        self._log_file = open(self.logs, "wb")  # noqa: SIM115 - closed in close()

        def give_fd3() -> None:
            # Pipes are close-on-exec (PEP 446): only this fd 3 reaches ``exec``.
            if answer_w == 3:
                os.set_inheritable(3, True)
            else:
                os.dup2(answer_w, 3)

        self.proc = subprocess.Popen(
            [str(directory / "exec")],
            cwd=directory,
            stdin=subprocess.PIPE,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            close_fds=False,
            preexec_fn=give_fd3,
        )
        os.close(answer_w)
        self._answers = os.fdopen(answer_r, "rb")
        self._pending = b""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, line: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(line).encode() + b"\n")
        self.proc.stdin.flush()

    def answer(self, timeout: float = 30.0) -> Any:
        """Read one answer line from fd 3, failing the test instead of hanging."""
        end = time.monotonic() + timeout
        fd = self._answers.fileno()
        while b"\n" not in self._pending:
            with selectors.DefaultSelector() as sel:
                sel.register(fd, selectors.EVENT_READ)
                if not sel.select(max(0.0, end - time.monotonic())):
                    raise TimeoutError(f"no answer within {timeout}s; logs:\n{self.log_text()}")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise EOFError(f"fd 3 closed without an answer; logs:\n{self.log_text()}")
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return json.loads(line)

    def log_text(self) -> str:
        return self.logs.read_text(errors="replace")

    def close(self, timeout: float = 10.0) -> int:
        """Close stdin (EOF ends the loop) and return the exit code."""
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._answers.close()
        self._log_file.close()
        return code


def leftover_keys(redis_uri: str, burst_id: str) -> list[bytes]:
    """Redis keys a burst left behind (the failure tests leave theirs to expire)."""
    import redis

    with redis.Redis.from_url(redis_uri) as client:
        return client.keys(f"burst:{burst_id}:*")


def burst_info(size: int, granularity: int) -> dict[str, list[int]]:
    """Packs of ``granularity`` consecutive workers (the last one may be smaller)."""
    return {
        str(index): [first, min(first + granularity, size) - 1]
        for index, first in enumerate(range(0, size, granularity))
    }


def pack_lines(
    params: list[Any],
    granularity: int,
    backend: dict[str, Any],
    burst_id: str,
    timeout_s: float = 20.0,
    chunk_size: int | None = None,
) -> list[dict[str, Any]]:
    """The pack lines a platform would send for one burst, one per pack."""
    info = burst_info(len(params), granularity)
    deadline = str(int((time.time() + timeout_s) * 1000))
    return [
        {
            "value": params[first : last + 1],
            "invoker_id": group,
            "transaction_id": burst_id,
            "burst_info": info,
            "middleware": {"backend_info": backend, "chunk_size": chunk_size},
            "debug": False,
            "deadline": deadline,
            "namespace": "guest",
            "action_name": "burst-test",
            "activation_id": f"{burst_id}-{group}",
        }
        for group, (first, last) in info.items()
    ]


def run_burst(
    main: Callable[[Any, Any], Any],
    params: list[Any],
    granularity: int,
    backend: dict[str, Any],
    burst_id: str,
    timeout_s: float = 20.0,
    chunk_size: int | None = None,
) -> list[dict[str, Any]]:
    """Run a whole burst without the exec layer: one forked pack runner per pack.

    Returns every worker's envelope in worker-id order.
    """
    lines = pack_lines(params, granularity, backend, burst_id, timeout_s, chunk_size)
    runners: dict[int, tuple[int, bytearray]] = {}
    sys.stdout.flush()
    sys.stderr.flush()
    for line in lines:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(read_fd)
                envelopes = run_pack(parse_pack_line(line), main)
                data = memoryview(json.dumps(envelopes).encode())
                while data:
                    data = data[os.write(write_fd, data) :]
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        runners[read_fd] = (pid, bytearray())
    envelopes: list[dict[str, Any]] = []
    with selectors.DefaultSelector() as sel:
        for fd in runners:
            sel.register(fd, selectors.EVENT_READ)
        while sel.get_map():
            for key, _ in sel.select(timeout_s + 30):
                chunk = os.read(key.fd, 1 << 20)
                if chunk:
                    runners[key.fd][1].extend(chunk)
                    continue
                sel.unregister(key.fd)
                os.close(key.fd)
                pid, data = runners[key.fd]
                _, status = os.waitpid(pid, 0)
                assert status == 0, f"pack runner {pid} failed with status {status}"
                envelopes.extend(json.loads(data))
    return sorted(envelopes, key=lambda e: e["worker_id"])
