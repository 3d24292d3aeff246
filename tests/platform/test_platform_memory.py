"""Memory limits with real cgroups: one per container, OOM deaths told exactly, nothing left behind.

Skipped (saying why) where this machine or user cannot create memory cgroups;
the RLIMIT_DATA fallback is tested in test_platform_limits.py on every machine.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runner.build import build_python_action
from runner.platform.cgroups import (
    DEFAULT_ROOT,
    PARENT_PREFIX,
    ROOT_ENV,
    V1,
    V2,
    Unavailable,
    open_tree,
)

MEMORY_EXHAUSTED = "The action exhausted its memory and was aborted."
ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024

# A map action (the platform's own Python loop) that says where it runs, and can hog memory.
MAP_SOURCE = """
import resource

def main(args):
    if args.get("alloc_mb"):
        hog = bytearray(args["alloc_mb"] * 2**20)  # zeroed: every page is touched
    return {"cgroup": open("/proc/self/cgroup").read(),
            "rlimit_data": resource.getrlimit(resource.RLIMIT_DATA)[0]}
"""
# A burst action built as the runner builds it: the pack launcher forks one process per worker.
BURST_SOURCE = """
def memory_limit():
    # read while the pack runs: its cgroup goes with it when it ends
    unified = None
    for line in open("/proc/self/cgroup").read().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return int(open(f"/sys/fs/cgroup/memory{path}/memory.limit_in_bytes").read())
        if controllers == "":
            unified = path
    return int(open(f"/sys/fs/cgroup{unified}/memory.max").read())

def main(args, burst):
    if args.get("alloc_mb"):
        hog = bytearray(args["alloc_mb"] * 2**20)
    return {"cgroup": open("/proc/self/cgroup").read(), "limit": memory_limit()}
"""


@pytest.fixture(scope="module")
def cgroups_here() -> None:
    try:
        open_tree().close()
    except Unavailable as exc:
        pytest.skip(f"memory cgroups are not available here: {exc}")


def cgroup_dir(proc_cgroup: str) -> Path:
    """The memory cgroup directory named by a process's /proc/<pid>/cgroup."""
    unified = None
    for line in proc_cgroup.splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return DEFAULT_ROOT / "memory" / path.lstrip("/")
        if controllers == "":
            unified = DEFAULT_ROOT / path.lstrip("/")
    assert unified is not None, proc_cgroup
    return unified


def limit_of(directory: Path) -> int:
    version = V2 if (directory / V2.limit).exists() else V1
    return int((directory / version.limit).read_text())


def parents_of(pid: int) -> list[Path]:
    """Every parent cgroup a platform of this pid left in either hierarchy."""
    bases = [DEFAULT_ROOT, DEFAULT_ROOT / "memory"]
    return [
        entry
        for base in bases
        if base.is_dir()
        for entry in base.iterdir()
        if entry.name == f"{PARENT_PREFIX}{pid}" or entry.name.startswith(f"{PARENT_PREFIX}{pid}-")
    ]


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def put_python(server: Any, name: str, code: str, memory: int, binary: bool = False) -> None:
    body = {
        "exec": {"kind": "python:3", "code": code, "binary": binary},
        "limits": {"memory": memory},
    }
    created = server.http.put(f"{server.base}/actions/{name}?overwrite=true", json=body)
    assert created.status_code == 200, created.text


def test_map_action_over_its_cgroup_limit_dies_of_memory(
    cgroups_here: None, platform_factory: Callable[..., Any], tmp_path: Path
) -> None:
    log = tmp_path / "platform.log"
    server = platform_factory("--memory-limit", "cgroup", log=log)
    assert "memory limit: a memory cgroup per container, cgroup v" in log.read_text()
    put_python(server, "hog", MAP_SOURCE, memory=128)
    fine = server.invoke("hog", {"alloc_mb": 64}, blocking="true")
    assert fine.status_code == 200, fine.text
    result = fine.json()["response"]["result"]
    where = cgroup_dir(result["cgroup"])
    assert where.parent.name == f"{PARENT_PREFIX}{server.proc.pid}"
    assert limit_of(where) == 128 * MIB
    assert result["rlimit_data"] == -1  # no RLIMIT_DATA: the cgroup is the limit

    died = server.invoke("hog", {"alloc_mb": 512}, blocking="true")
    assert died.status_code == 502
    record = died.json()
    assert record["response"]["status"] == "action developer error"
    assert record["response"]["result"] == {"error": MEMORY_EXHAUSTED}
    # Killed by the kernel, not failing an allocation: the logs cannot have told.
    assert not any("MemoryError" in line for line in record["logs"])
    assert wait_until(lambda: not where.exists()), "the dead container's cgroup stays"

    assert server.stop() == 0
    assert parents_of(server.proc.pid) == []


def test_oom_kill_while_initializing_is_out_of_memory_too(
    cgroups_here: None, platform_factory: Callable[..., Any]
) -> None:
    server = platform_factory("--memory-limit", "cgroup")
    code = "hog = bytearray(512 * 2**20)\n\ndef main(args):\n    return {}\n"
    put_python(server, "fat-import", code, memory=128)
    died = server.invoke("fat-import", {}, blocking="true")
    assert died.status_code == 502
    assert died.json()["response"]["result"] == {"error": MEMORY_EXHAUSTED}
    assert "initTime" in server.notes(died.json())
    assert server.stop() == 0
    assert parents_of(server.proc.pid) == []


def test_numpy_imports_at_128_mb_in_a_cgroup(
    cgroups_here: None, platform_factory: Callable[..., Any]
) -> None:
    server = platform_factory("--memory-limit", "cgroup")
    code = "import numpy\n\ndef main(args):\n    return {'sum': float(numpy.ones(1000).sum())}\n"
    put_python(server, "np", code, memory=128)
    answer = server.invoke("np", {}, blocking="true", result="true")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"sum": 1000.0}
    assert server.stop() == 0
    assert parents_of(server.proc.pid) == []


def test_pack_gets_its_workers_memory_and_reports_the_oom_killed_worker(
    cgroups_here: None, platform_factory: Callable[..., Any], tmp_path: Path
) -> None:
    source = tmp_path / "hog_burst.py"
    source.write_text(BURST_SOURCE)
    artifact = build_python_action(source, "main", tmp_path / "build")
    server = platform_factory("--memory-limit", "cgroup")
    put_python(
        server, "hog-burst", base64.b64encode(artifact.path.read_bytes()).decode(), 128, True
    )
    values = [{}, {"alloc_mb": 1024}, {}]
    ids = server.invoke("hog-burst", {"value": values}, burst="true", granularity="3").json()
    record = server.activation(ids["activationIds"][0], timeout=60)
    response = record["response"]
    # the pack's status is its worst worker's: one at its memory limit, as OpenWhisk says
    assert response["status"] == "action developer error", response
    ok, hog, other = response["result"]
    assert hog["error"] == MEMORY_EXHAUSTED and hog["result"] is None
    assert hog["status"] == "action developer error"
    assert ok["error"] is None and other["error"] is None
    where = cgroup_dir(ok["result"]["cgroup"])
    assert where == cgroup_dir(other["result"]["cgroup"])  # one cgroup for the whole pack
    assert ok["result"]["limit"] == 3 * 128 * MIB  # G workers of an M MB action: G x M
    assert server.stop() == 0
    assert parents_of(server.proc.pid) == []


def test_memory_limit_flag_says_which_limit_is_used(
    platform_factory: Callable[..., Any], tmp_path: Path
) -> None:
    missing = tmp_path / "no-cgroups"
    log = tmp_path / "auto.log"
    env = {**os.environ, ROOT_ENV: str(missing)}
    server = platform_factory(log=log, env=env)
    assert "memory limit: RLIMIT_DATA per process (no cgroups: no cgroup memory controller " \
        f"mounted at {missing})" in log.read_text()
    server.put("echo")
    assert server.invoke("echo", {}, blocking="true").status_code == 200
    log = tmp_path / "rlimit.log"
    platform_factory("--memory-limit", "rlimit", log=log)
    assert "memory limit: RLIMIT_DATA per process (--memory-limit rlimit)" in log.read_text()


def _start_refused(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runner.platform", "--port", "0", "--memory-limit", "cgroup"],
        cwd=ROOT,
        env={**os.environ, ROOT_ENV: str(root)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_cgroup_limit_without_cgroups_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-cgroups"
    refused = _start_refused(missing)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.splitlines() == [
        f"--memory-limit cgroup: no cgroup memory controller mounted at {missing}"
    ]
    # Looks like a v1 hierarchy but is a plain directory: nothing can be limited there.
    fake = tmp_path / "fake"
    (fake / "memory").mkdir(parents=True)
    (fake / "memory" / V1.limit).write_text("9223372036854771712\n")
    refused = _start_refused(fake)
    assert refused.returncode == 1
    lines = refused.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("--memory-limit cgroup: cannot set up a "), lines
    assert sorted(p.name for p in (fake / "memory").iterdir()) == [V1.limit]  # nothing left


def test_leftovers_of_a_dead_platform_are_removed_at_start(
    cgroups_here: None, platform_factory: Callable[..., Any]
) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    tree = open_tree()  # only to learn where parents go on this machine
    base = tree.parent.parent
    tree.close()
    leftover = base / f"{PARENT_PREFIX}{gone.pid}"
    (leftover / "c7").mkdir(parents=True)
    try:
        server = platform_factory("--memory-limit", "cgroup")
        assert not leftover.exists()
        assert server.stop() == 0
    finally:
        for path in (leftover / "c7", leftover):
            if path.exists():
                path.rmdir()
