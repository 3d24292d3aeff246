"""Finishing an interrupted sweep: the same command with `--finish` runs only what is missing.

Hydra names each job's directory after its number and overrides, so the same
sweep command in the same sweep directory gives every job the directory it had
before. A job whose `summary.csv` says `ok` is kept as it is; any other job runs
again, after its earlier attempt is moved to `.attempts/<n>/` (kept, never
compared: compare skips hidden directories).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from runner.config import ConfigError
from runner.rundir import files

OPTION = "--finish"
SWEEPS = Path("outputs", "sweeps")  # where conf/config.yaml puts sweeps (hydra.sweep.dir)
ATTEMPTS = ".attempts"


def pop_option(argv: list[str]) -> tuple[bool, str | None, list[str]]:
    """Takes `--finish` or `--finish=DIR` out of a command line: (given, DIR, the rest)."""
    rest = [arg for arg in argv if arg != OPTION and not arg.startswith(f"{OPTION}=")]
    named = [arg.partition("=")[2] for arg in argv if arg.startswith(f"{OPTION}=")]
    return len(rest) < len(argv), (named[-1] if named else None), rest


def _task_overrides(argv: list[str]) -> list[str]:
    return sorted(arg for arg in argv if not arg.startswith(("-", "hydra.", "+hydra.")))


def _saved_overrides(sweep_dir: Path) -> list[str] | None:
    saved = yaml.safe_load((sweep_dir / "multirun.yaml").read_text()) or {}
    task = saved.get("hydra", {}).get("overrides", {}).get("task")
    return sorted(map(str, task)) if isinstance(task, list) else None


def sweep_to_finish(argv: list[str], named: str | None) -> list[str]:
    """The command line that reruns the sweep in its own directory (argv plus its sweep dir).

    Without a directory, the newest sweep under outputs/sweeps/ made by the
    same overrides is the one finished.
    """
    if not {"-m", "--multirun"} & set(argv):
        raise ConfigError(f"{OPTION} finishes a sweep: give the sweep's command, with -m")
    if any(arg.startswith("hydra.sweep.dir=") for arg in argv):
        if named is not None:
            raise ConfigError(f"give the sweep either as {OPTION}=DIR or as hydra.sweep.dir")
        return argv
    if named is not None:
        sweep = Path(named)
        if not files.is_sweep_root(sweep):
            raise ConfigError(f"{OPTION}={named}: not a sweep directory (no multirun.yaml)")
    else:
        wanted = _task_overrides(argv)
        made = [path.parent for path in sorted(SWEEPS.glob("*/*/multirun.yaml"), reverse=True)
                if _saved_overrides(path.parent) == wanted]
        if not made:
            raise ConfigError(f"no sweep of these overrides under {SWEEPS}/ to finish; "
                              f"name it: {OPTION}=DIR")
        sweep = made[0]
    return [*argv, f"hydra.sweep.dir={sweep}"]


def already_ok(run_dir: Path) -> dict | None:
    """The summary of a job that finished ok in an earlier attempt, else None."""
    row = files.read_summary(run_dir)
    return row if row is not None and row.get("status") == "ok" else None


def set_aside(run_dir: Path, hydra_log: str) -> Path | None:
    """Moves an earlier attempt's files to `.attempts/<n>/`; returns where, None if none.

    Hydra's `.hydra/` and its job log (`hydra_log`, open already) belong to this attempt.
    """
    keep = {files.HYDRA, ATTEMPTS, hydra_log}
    earlier = [path for path in run_dir.iterdir() if path.name not in keep]
    if not earlier:
        return None
    attempts = run_dir / ATTEMPTS
    number = len(list(attempts.iterdir())) + 1 if attempts.is_dir() else 1
    target = attempts / str(number)
    target.mkdir(parents=True)
    for path in earlier:
        shutil.move(str(path), target / path.name)
    return target
