"""Pack directories live in memory; those of launchers killed before they could clean up go."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from runner.burst import pack


@pytest.fixture
def memory_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(pack, "MEMORY_DIR", str(tmp_path))
    return tmp_path


def test_a_dead_launchers_dir_is_removed_and_a_living_ones_kept(memory_dir: Path):
    ended = subprocess.Popen(["true"])
    ended.wait()
    orphan = memory_dir / f"{pack.PACK_DIR_PREFIX}{ended.pid}-abc"
    (orphan / "sockets").mkdir(parents=True)
    living = memory_dir / f"{pack.PACK_DIR_PREFIX}{os.getppid()}-def"
    living.mkdir()
    unrelated = memory_dir / "someone-elses"
    unrelated.mkdir()

    made = Path(pack._make_pack_dir())
    try:
        assert made.parent == memory_dir
        assert made.name.startswith(f"{pack.PACK_DIR_PREFIX}{os.getpid()}-")
        assert not orphan.exists()
        assert living.exists() and unrelated.exists()
    finally:
        shutil.rmtree(made)
