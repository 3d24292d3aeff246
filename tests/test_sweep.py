"""Multirun: one run directory per combination, all under the sweep directory."""

import subprocess
import sys
from pathlib import Path

import pandas as pd

PROJECT = Path(__file__).resolve().parent.parent




def test_sweep_makes_one_directory_per_combination(tmp_path, cache_dir):
    sweep_dir = tmp_path / "sweep"
    completed = subprocess.run(
        [sys.executable, "-m", "runner", "-m", "mode=map,burst", "workers=2,3", "app=sleep",
         "app.sleep_ms=50", f"hydra.sweep.dir={sweep_dir}", f"build.cache_dir={cache_dir}",
         "platform.auth=sweep-secret"],
        cwd=PROJECT, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    summaries = sorted(sweep_dir.glob("*/summary.csv"))
    assert len(summaries) == 4
    rows = pd.concat([pd.read_csv(path) for path in summaries])
    assert sorted(zip(rows["mode"], rows["workers"], strict=True)) == [
        ("burst", 2), ("burst", 3), ("map", 2), ("map", 3)]
    assert rows["valid"].all()
    assert not [p for p in sweep_dir.rglob("*") if "sweep-secret" in p.name]
    for saved in sweep_dir.rglob("*.yaml"):
        assert "sweep-secret" not in saved.read_text(), saved
