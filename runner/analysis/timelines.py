"""`python -m runner.analysis.timelines DIR...`: each run's timeline.png, drawn after the fact.

Drawing needs matplotlib, whose import alone costs a few hundred milliseconds:
more than a short run itself. So the runner draws nothing while it measures; once
a run or a whole sweep has ended it starts this module in the background
(`draw_later`), which draws `timeline.png` into every run directory under the
given ones that has none yet.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runner.rundir import files


def draw_later(paths: list[Path]) -> None:
    """Starts the drawing in its own session, not waited for: the runner can exit at once."""
    subprocess.Popen([sys.executable, "-m", "runner.analysis.timelines", *map(str, paths)],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)


def draw_missing(paths: list[Path]) -> list[Path]:
    """Draws the timeline of every run under `paths` that lacks one; returns those written."""
    from runner.analysis.plots import write_timeline

    runs = [run for path in paths for run in files.find_runs(path)]
    drawn = [write_timeline(run) for run in runs if not (run / files.TIMELINE).exists()]
    return [path for path in drawn if path is not None]


if __name__ == "__main__":
    draw_missing([Path(arg) for arg in sys.argv[1:]])
