"""Finishes collecting an interrupted run (`python -m runner.resume RUN_DIR`).

Activations keep running on the platform after the runner stops; when the
platform outlives the runner (a cluster, or a stand-alone embedded platform)
their records can still be fetched. Resume replaces the run's `unfinished` rows
with what the platform now has, re-validates single-stage apps and rewrites
the summary; rows it still cannot get stay `unfinished`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from runner.apps import RunContext, catalog, validate_unless_failed
from runner.client import connect
from runner.client.openwhisk import OpenWhiskClient
from runner.config import ConfigError, ExperimentConfig, PlatformName, app_params
from runner.pipeline.executor import now_ms
from runner.rundir import files, summary
from runner.rundir.recorder import (
    ACTIVATION_COLUMNS,
    WORKER_COLUMNS,
    Recorder,
    Submission,
    widen_workers,
)

UNFINISHED = "unfinished"


def load_config(run_dir: Path, overrides: list[str]) -> DictConfig:
    saved = run_dir / files.HYDRA / "config.yaml"
    if not saved.is_file():
        raise ConfigError(f"{run_dir} is not a run directory (no .hydra/config.yaml)")
    cfg = OmegaConf.merge(OmegaConf.structured(ExperimentConfig), OmegaConf.load(saved),
                          OmegaConf.from_dotlist(overrides))
    if cfg.platform.get("auth") == files.REDACTED:  # removed when the run was saved
        cfg.platform.auth = None
    return cfg


def _missing_key(run_dir: Path) -> str | None:
    """What to say when no key is found, if the run's own key was given and not saved."""
    saved = OmegaConf.load(run_dir / files.HYDRA / "config.yaml")
    if OmegaConf.select(saved, "platform.auth") != files.REDACTED:
        return None
    return (f"no key for the platform: the run's key was given on the command line, and runs "
            f"save it as {files.REDACTED}; pass it again (python -m runner.resume {run_dir} "
            "platform.auth=UUID:KEY), or set __OW_API_KEY or AUTH in ~/.wskprops")


def _fetch(client: OpenWhiskClient, activations: pd.DataFrame) -> dict[str, dict]:
    """The records of unfinished activations that have ended since the interruption."""
    waiting = activations[(activations["status"] == UNFINISHED)
                          & activations["activation_id"].notna()]
    records = {}
    for activation_id in waiting["activation_id"]:
        record = client.get_activation(activation_id)
        if record is not None:
            records[activation_id] = record
    return records


def _record(run_dir: Path, records: dict[str, dict], activations: pd.DataFrame,
            workers: pd.DataFrame) -> None:
    """Rewrites the row files without the replaced rows, then appends the finished ones."""
    def stale(frame: pd.DataFrame) -> pd.Series:
        return frame["activation_id"].isin(records) & (frame["status"] == UNFINISHED)

    with files.replacing(run_dir / files.ACTIVATIONS) as partial:
        activations[~stale(activations)][ACTIVATION_COLUMNS].to_csv(partial, index=False)
    with files.replacing(run_dir / files.WORKERS) as partial:
        workers[~stale(workers)][WORKER_COLUMNS].to_csv(partial, index=False)
    recorder = Recorder(run_dir, append=True)
    try:
        for row in activations[stale(activations)].itertuples():
            members = workers[workers["activation_id"] == row.activation_id]
            pack = members["pack"].dropna()
            sub = Submission(row.stage, row.kind, sorted(members["worker_id"].astype(int)),
                             int(pack.iloc[0]) if len(pack) else None, int(row.submit_ms),
                             None if pd.isna(row.accepted_ms) else int(row.accepted_ms),
                             row.activation_id)
            recorder.finished(sub, records[row.activation_id], now_ms())
    finally:
        recorder.close()


def resume(run_dir: Path, overrides: list[str]) -> dict[str, Any]:
    cfg = load_config(run_dir, overrides)
    if cfg.platform.name == PlatformName.local:
        raise ConfigError(
            "this run used the embedded platform, which stopped with it, so its activations "
            "are gone; resume needs a platform that outlives the runner (platform=openwhisk, "
            "e.g. a stand-alone `python -m runner.platform`)")
    activations = files.read_table(run_dir, files.ACTIVATIONS)
    workers = files.read_table(run_dir, files.WORKERS)
    before = files.read_summary(run_dir) or {}
    platform = cfg.platform
    with connect.cluster(platform.api_host, platform.auth, platform.namespace,
                         platform.insecure, platform.ca_bundle, 4,
                         _missing_key(run_dir)) as connection:
        records = _fetch(connection.client, activations)
    _record(run_dir, records, activations, workers)
    widen_workers(run_dir)
    return _resummarize(cfg, run_dir, before)


def _resummarize(cfg: DictConfig, run_dir: Path, before: dict[str, Any]) -> dict[str, Any]:
    workers = files.read_table(run_dir, files.WORKERS)
    unfinished = int((workers["status"] == UNFINISHED).sum())
    failed = workers[workers["error"].notna()]
    failures = [(int(row.worker_id), str(row.error)) for row in failed.itertuples()]
    app = catalog.load(cfg.app.name)
    outcome: dict[str, Any] = {"resumed": True}
    if hasattr(app, "run"):
        outcome.update(valid=False, validation="not re-validated: multi-stage apps need their "
                       "driver; rerun the experiment")
    else:
        params = app_params(cfg, app.Params)
        ctx = RunContext(cfg.workers, str(cfg.mode), Path(cfg.data_dir), cfg.storage)
        checked = validate_unless_failed(app, params, ctx,
                                         files.results_by_worker(run_dir, cfg.workers),
                                         len(failures))
        outcome.update(valid=checked.valid, validation=checked.detail)
    decided = summary.verdict(cfg.workers, failures, outcome["valid"], outcome["validation"],
                              unfinished)
    outcome.update(status=decided.status, message=decided.message)
    identity = {k: before.get(k) for k in summary.IDENTITY_COLUMNS}
    steps = {step: before[f"{step}_ms"] for step in (*summary.STEPS, "total")
             if pd.notna(before.get(f"{step}_ms"))}
    kept = {k: before.get(k) for k in ("build_cache", "platform_address", "deployed",
                                       "git_commit", "requests")}
    return summary.summarize(run_dir, identity, steps, {**kept, **outcome})
