"""A run directory on a file system that fills up mid-run: one line naming the file that could
not be written, the rows written before kept, exit 1, no traceback."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

PROJECT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 96 KiB tmpfs: room for Hydra's files and some rows, not for a thousand workers'."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (make test runs as root in CI)")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_ends_the_run_with_one_line_naming_the_file(small_disk, standalone_platform,
                                                                 cache_dir, data_dir):
    run_dir = small_disk / "run"
    done = subprocess.run(
        [sys.executable, "-m", "runner", "platform=openwhisk",
         f"platform.api_host={standalone_platform['APIHOST']}",
         f"platform.auth={standalone_platform['AUTH']}", "mode=map", "workers=1000",
         "app=hello", f"hydra.run.dir={run_dir}", f"build.cache_dir={cache_dir}",
         f"data_dir={data_dir}"],
        cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    named = {run_dir / name for name in ("activations.csv", "workers.csv", "results.jsonl")}
    assert any(lines[0] == f"error: cannot write {path}: No space left on device"
               for path in named), lines[0]
    assert f"run directory: {run_dir}" in done.stdout
    # what was written before the disk filled up is still there, and readable
    workers = pd.read_csv(run_dir / "workers.csv")
    assert 0 < len(workers) < 1000
    assert workers["worker_id"].is_unique
    # and whole: no row was cut where the disk filled up (a cut row still parses as one)
    for name in ("activations.csv", "workers.csv"):
        text = (run_dir / name).read_text()
        assert text.endswith("\n"), f"{name} ends in the middle of a row: {text[-80:]!r}"
        header, *rows = list(csv.reader(text.splitlines()))
        assert all(len(row) == len(header) for row in rows), name
    assert pd.read_csv(run_dir / "activations.csv")["status"].notna().all()
    results = (run_dir / "results.jsonl").read_text()
    assert results == "" or results.endswith("\n")
    assert all(json.loads(line)["result"] for line in results.splitlines())


def test_a_disk_full_before_the_run_begins_is_one_line_too(small_disk):
    filler = small_disk / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=4k"], capture_output=True)
    run_dir = small_disk / "run"
    done = subprocess.run(
        [sys.executable, "-m", "runner", "mode=map", "workers=2", "app=hello",
         f"hydra.run.dir={run_dir}"],
        cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot write {run_dir}/"), line
    assert line.endswith(": No space left on device"), line
