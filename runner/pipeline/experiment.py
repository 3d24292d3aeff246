"""The pipeline of one run: build -> deploy -> invoke -> wait -> collect -> validate.

This module calls every other part and is the only one that does; it takes a
composed config and a run directory and never touches Hydra itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig

from runner import apps, build
from runner.apps import catalog
from runner.client import connect
from runner.client.openwhisk import BurstOptions, OpenWhiskClient
from runner.config import ConfigError, app_params, validate
from runner.pipeline import provenance
from runner.pipeline.executor import Executor
from runner.rundir import summary
from runner.rundir.files import BUILD_LOG, WORKERS, WriteError
from runner.rundir.recorder import Recorder, WorkerOutcome, widen_workers

DIGEST_ANNOTATION = "burst-runner-digest"
T = TypeVar("T")


@dataclass
class RunOutcome:
    run_dir: Path
    status: str  # ok | failed | invalid | interrupted | error
    message: str
    summary: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None

    @property
    def exit_code(self) -> int:
        if self.status == "interrupted":
            return 143 if isinstance(self.error, Terminated) else 130
        return 0 if self.status == "ok" else 1


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C so the run directory is completed before exiting."""


class Steps:
    """Wall-clock time of each pipeline step, in the order they ran.

    Every statement of a run between its start and its summary belongs to one
    step (summary.STEPS), so the steps add up to the run's total time.
    """

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - started) * 1000

    @contextmanager
    def around(self, manager: AbstractContextManager[T], start: str, stop: str) -> Iterator[T]:
        """Enters `manager` as the step `start` and leaves it as the step `stop`, however the
        body ends: starting and stopping a platform are steps of their own."""
        with ExitStack() as stack:
            with self.step(start):
                value = stack.enter_context(manager)
            try:
                yield value
            finally:
                with self.step(stop):
                    stack.close()


def _deploy(client: OpenWhiskClient, name: str, artifact: build.Artifact,
            memory: int, timeout_ms: int, fresh: bool) -> bool:
    """Creates or updates the action; returns False when the same code was already there.

    `fresh`: the platform served an earlier run of this process, so the action is
    deleted first, which retires its warm containers: this run starts cold, as
    it would on a platform of its own.
    """
    limits = {"memory": memory, "timeout": timeout_ms, "concurrency": 1}
    if fresh:
        client.delete_action(name)
    current = None if fresh else client.get_action(name)
    if current is not None:
        notes = {a.get("key"): a.get("value") for a in current.get("annotations", [])}
        deployed_limits = current.get("limits", {})
        same_limits = all(deployed_limits.get(key) == value for key, value in limits.items())
        if notes.get(DIGEST_ANNOTATION) == artifact.digest and same_limits:
            return False
    client.put_action(name, {
        "exec": artifact.exec_body(),
        "limits": limits,
        "annotations": [
            {"key": DIGEST_ANNOTATION, "value": artifact.digest},
            # our launcher acknowledges readiness, so init time is not billed as run time
            {"key": "__OW_WAIT_FOR_ACK", "value": True},
        ],
    })
    return True


def _run_app(app: Any, params: Any, ctx: apps.RunContext, executor: Executor) -> Any:
    """The app's own driver if it has one; otherwise one stage, answers indexed by worker id."""
    if hasattr(app, "run"):
        return app.run(params, ctx, executor)
    outcomes = executor.run(app.payloads(params, ctx))
    return _results_by_worker(outcomes, ctx.workers)


def _burst_options(cfg: DictConfig) -> BurstOptions:
    burst = cfg.burst
    return BurstOptions(burst.granularity, burst.join, burst.backend.value, burst.chunk_size,
                        burst.debug)


def run(cfg: DictConfig, run_dir: Path, keep_platform: bool = False) -> RunOutcome:
    """Runs the experiment; whatever happens, the CSVs and summary.csv are on disk.

    `keep_platform`: leave an embedded platform running for the next run of this
    process (a sweep's next job); runner/client/embedded.py says how each run
    still starts cold.
    """
    validate(cfg)
    app = catalog.load(cfg.app.name)
    params = app_params(cfg, app.Params)
    action = build.resolve(params, partial(catalog.app_file, cfg.app.name), cfg.mode.value,
                           cfg.platform.name.value)
    ctx = apps.RunContext(cfg.workers, cfg.mode.value, Path(cfg.data_dir), cfg.storage)
    steps = Steps()
    extra: dict[str, Any] = {}
    recorder = Recorder(run_dir)
    outcome = RunOutcome(run_dir, "error", "")
    started = time.perf_counter()
    try:
        with steps.step("build"):
            artifact = build.build(action, Path(cfg.build.cache_dir), run_dir / BUILD_LOG)
        extra["build_cache"] = "hit" if artifact.cache_hit else "miss"
        platform = connect.from_config(cfg, run_dir, keep_platform)
        with steps.around(platform, "platform_start", "platform_stop") as connection:
            extra["platform_address"] = connection.description
            with steps.step("record"):  # provenance.json says where the run runs, at once
                info = provenance.write(run_dir, {"platform": connection.description,
                                                  "seed": getattr(params, "seed", None)})
            extra["git_commit"] = info["git_commit"]
            with steps.step("deploy"):
                uploaded = _deploy(connection.client, cfg.app.name, artifact,
                                   params.memory, params.timeout_ms, connection.kept)
            extra["deployed"] = "uploaded" if uploaded else "unchanged"
            with steps.step("run"):
                executor = Executor(connection.client, cfg.app.name, recorder,
                                    cfg.invoke.concurrency, cfg.wait.timeout_s, cfg.mode.value,
                                    _burst_options(cfg), cfg.invoke.blocking, cfg.wait.poll_rate)
                answer = _run_app(app, params, ctx, executor)
            extra["requests"] = connection.client.requests_sent
        with steps.step("validate"):
            failures = [(o.worker_id, str(o.error)) for o in executor.outcomes if not o.ok]
            validation = apps.validate_unless_failed(app, params, ctx, answer, len(failures))
            decided = summary.verdict(cfg.workers, failures, validation.valid, validation.detail)
        extra["valid"] = validation.valid
        extra["validation"] = validation.detail
        outcome = RunOutcome(run_dir, decided.status, decided.message)
    except KeyboardInterrupt as interrupt:
        outcome = RunOutcome(run_dir, "interrupted",
                             "stopped before the end; the rows measured so far are kept",
                             error=interrupt)
    except ConfigError as error:  # found by the app once it saw its inputs: still a config error
        outcome = RunOutcome(run_dir, "error", f"config error: {error}", error=error)
        raise
    except Exception as error:  # recorded here, reported by the caller in one line
        first_line = (str(error).splitlines() or [type(error).__name__])[0]
        outcome = RunOutcome(run_dir, "error", first_line, error=error)
    finally:
        try:
            with steps.step("record"):
                recorder.close()
                if (run_dir / WORKERS).is_file():
                    widen_workers(run_dir)
        except WriteError as error:
            outcome = _unwritten(outcome, error)
        steps.ms["total"] = (time.perf_counter() - started) * 1000
        extra.setdefault("valid", False)
        extra["status"] = outcome.status
        extra["message"] = outcome.message
        try:
            outcome.summary = summary.summarize(run_dir, summary.identity(cfg), steps.ms, extra)
        except WriteError as error:
            outcome = _unwritten(outcome, error)
    return outcome


def _unwritten(outcome: RunOutcome, error: WriteError) -> RunOutcome:
    """A run whose record could not be completed is an error, unless one already ended it:
    the first cause is the one the user needs."""
    if outcome.error is not None:
        return outcome
    return RunOutcome(outcome.run_dir, "error", str(error), outcome.summary, error)


def _results_by_worker(outcomes: list[WorkerOutcome], workers: int) -> list[Any]:
    by_id: list[Any] = [None] * workers
    for o in outcomes:
        if o.ok and 0 <= o.worker_id < workers:
            by_id[o.worker_id] = o.result
    return by_id
