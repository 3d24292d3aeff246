"""`python -m runner [overrides]` (runner/__main__.py starts it): Hydra entry point and the one
place that talks to the user.

Hydra composes the config; every error a user can fix is printed as one line
on stderr (config errors exit with 2), and the run directory is always named.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import traceback
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import ConfigCompositionException, OverrideParseException
from hydra.types import RunMode
from omegaconf import DictConfig

from runner import config
from runner.analysis import timelines
from runner.analysis.sweep import write_sweep_summary
from runner.client import embedded
from runner.config import compose, compose_once, project
from runner.pipeline import experiment, finish
from runner.rundir.files import REDACTED

# Let Hydra's own errors reach `main` so they can be reported in one line.
os.environ["HYDRA_FULL_ERROR"] = "1"

failed_jobs: list[Path] = []
# set by main and the sweep's first job: finishing an earlier sweep, and where the sweep is
finishing = False
sweep_dirs: list[Path] = []


def _redact(paths: list[Path], secrets: list[str | None]) -> None:
    """Hydra saves overrides verbatim; a key given on the command line must not stay on disk."""
    for path in paths:
        if not path.is_file():
            continue
        text = path.read_text()
        redacted = text
        for secret in filter(None, secrets):
            redacted = redacted.replace(secret, REDACTED)
        if redacted != text:
            path.write_text(redacted)


def _terminate(signum: int, frame: object) -> None:
    raise experiment.Terminated()


def _discard(run_dir: Path) -> None:
    """A run stopped by a config error measured nothing: its directory would only mislead."""
    shutil.rmtree(run_dir, ignore_errors=True)
    try:
        run_dir.parent.rmdir()  # the day's folder, if this was its only run
    except OSError:
        pass


def _task(cfg: DictConfig) -> float | None:
    """Runs one experiment; returns its makespan, the objective of optimizing sweepers."""
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    saved = [*run_dir.glob(".hydra/*.yaml")]
    if multirun:
        saved.append(Path(hydra_cfg.sweep.dir) / "multirun.yaml")
    _redact(saved, [cfg.platform.get("auth"), cfg.storage.get("access_key"),
                    cfg.storage.get("secret_key")])
    if multirun and not sweep_dirs:
        sweep_dirs.append(Path(hydra_cfg.sweep.dir))
    if multirun and finishing:
        earlier = finish.already_ok(run_dir)
        if earlier is not None:
            print(f"already ok, kept: {run_dir}", flush=True)
            return float(earlier.get("makespan_ms", float("nan")))
        finish.set_aside(run_dir, f"{hydra_cfg.job.name}.log")
    try:
        outcome = experiment.run(cfg, run_dir, keep_platform=multirun)
    except config.ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        if cfg.debug:
            traceback.print_exception(error)
        if not multirun:
            _discard(run_dir)
            sys.exit(2)  # SystemExit passes through Hydra without its own error banner
        # In a sweep a bad job is recorded in its own directory and the others go on;
        # an impossible combination (granularity > workers) is merely skipped.
        skipped = isinstance(error, config.Incompatible)
        (run_dir / "error.txt").write_text(f"{'skipped' if skipped else 'config error'}: {error}\n")
        if not skipped:
            failed_jobs.append(run_dir)
        return None
    if not multirun:  # a sweep's timelines are drawn when it ends (runner.analysis.sweep)
        timelines.draw_later([run_dir])
    stream = sys.stdout if outcome.status == "ok" else sys.stderr
    print(f"{outcome.status}: {outcome.message}", file=stream)
    print(f"run directory: {run_dir}", flush=True)
    if outcome.error is not None and cfg.debug:
        traceback.print_exception(outcome.error)
    if outcome.status == "interrupted" and isinstance(outcome.error, BaseException):
        raise outcome.error
    if outcome.exit_code:
        if not multirun:
            sys.exit(outcome.exit_code)
        failed_jobs.append(run_dir)
        return None
    return float(outcome.summary.get("makespan_ms", float("nan")))


def expand_repeat(argv: list[str]) -> list[str]:
    """`repeat=R` becomes a sweep over `repeat_index=0..R-1`, so every point runs R times."""
    for position, arg in enumerate(argv):
        key, sep, value = arg.partition("=")
        if key == "repeat" and sep:
            if not value.isdigit() or int(value) < 1:
                raise config.ConfigError(f"repeat={value}: must be an integer >= 1")
            rest = argv[:position] + argv[position + 1:]
            sweep = [] if {"-m", "--multirun"} & set(rest) else ["--multirun"]
            return sweep + rest + [f"repeat_index=range(0,{value})"]
    return argv


def _interrupted_sweep() -> None:
    """A sweep stopped by Ctrl-C or SIGTERM still tabulates the jobs that ran."""
    timelines.draw_later(sweep_dirs)
    for sweep_dir in sweep_dirs:
        print(f"sweep summary: {write_sweep_summary(sweep_dir)}", file=sys.stderr)
        print(f"to run only the jobs not ok yet: the same command with {finish.OPTION}",
              file=sys.stderr, flush=True)


def _unwritable(error: OSError) -> str | None:
    """The file a failed write was for: the error's own name, else the Hydra file being saved
    (a write that fails on a full disk names no file; Hydra's `_save_config` knows which)."""
    if error.filename:
        return str(error.filename)
    trace = error.__traceback__
    while trace is not None:
        frame = trace.tb_frame
        names = frame.f_locals.keys()
        if frame.f_code.co_name == "_save_config" and {"output_dir", "filename"} <= names:
            return str(Path(frame.f_locals["output_dir"]) / frame.f_locals["filename"])
        trace = trace.tb_next
    return None


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        _compose_and_run()
    finally:
        embedded.stop_kept()


def _compose_and_run() -> None:
    global finishing
    try:
        named, argv = project.pop_option(sys.argv[1:])
        finishing, finish_dir, argv = finish.pop_option(argv)
        conf_dir = compose.prepare(project.find(named))
        argv = expand_repeat(argv)
        sys.argv[1:] = finish.sweep_to_finish(argv, finish_dir) if finishing else argv
    except config.ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        sys.exit(2)
    compose_once.install(multirun=bool({"-m", "--multirun"} & set(sys.argv[1:])))
    task = hydra.main(version_base="1.3", config_path=str(conf_dir), config_name="config")(_task)
    try:
        task()
    except (ConfigCompositionException, OverrideParseException) as error:
        print(f"config error: {compose.describe_composition(error)}", file=sys.stderr)
        if {"debug=true", "debug=True"} & set(sys.argv[1:]):  # no config was composed to ask
            traceback.print_exception(error)
        sys.exit(2)
    except OSError as error:
        # Hydra's own files (.hydra/, the job log) before the run began: a full or read-only disk
        where = _unwritable(error)
        if where is None:
            raise
        print(f"error: cannot write {where}: {error.strerror}", file=sys.stderr)
        sys.exit(1)
    except experiment.Terminated:
        _interrupted_sweep()
        sys.exit(143)
    except KeyboardInterrupt:
        _interrupted_sweep()
        sys.exit(130)
    if failed_jobs:
        sys.exit(f"{len(failed_jobs)} job(s) of the sweep failed; see their run directories")
