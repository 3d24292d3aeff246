"""`python -m runner.resume RUN_DIR [overrides]`: finish collecting an interrupted run.

Activations keep running on the platform after the runner stops; when the
platform outlives the runner (a cluster, or a stand-alone embedded platform)
their records can still be fetched. Resume replaces the run's `unfinished` rows
with what the platform now has, re-validates single-stage apps and rewrites
the summary; rows it still cannot get stay `unfinished`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from . import apps, connect, results
from .config import ConfigError, ExperimentConfig, PlatformName, app_params
from .executor import now_ms
from .openwhisk import OpenWhiskClient, OpenWhiskError
from .results import ACTIVATION_COLUMNS, WORKER_COLUMNS, Recorder, Submission

UNFINISHED = "unfinished"


def load_config(run_dir: Path, overrides: list[str]) -> DictConfig:
    saved = run_dir / ".hydra" / "config.yaml"
    if not saved.is_file():
        raise ConfigError(f"{run_dir} is not a run directory (no .hydra/config.yaml)")
    cfg = OmegaConf.merge(OmegaConf.structured(ExperimentConfig), OmegaConf.load(saved),
                          OmegaConf.from_dotlist(overrides))
    if cfg.platform.auth == "REDACTED":  # removed when the run was saved
        cfg.platform.auth = None
    return cfg


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

    activations[~stale(activations)][ACTIVATION_COLUMNS].to_csv(
        run_dir / "activations.csv", index=False)
    workers[~stale(workers)][WORKER_COLUMNS].to_csv(run_dir / "workers.csv", index=False)
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
    activations = pd.read_csv(run_dir / "activations.csv")
    workers = pd.read_csv(run_dir / "workers.csv")
    summary = pd.read_csv(run_dir / "summary.csv").iloc[0].to_dict()
    platform = cfg.platform
    with connect.cluster(platform.api_host, platform.auth, platform.namespace,
                         platform.insecure, platform.ca_bundle, 4) as connection:
        records = _fetch(connection.client, activations)
    _record(run_dir, records, activations, workers)
    results.widen_workers(run_dir)
    return _resummarize(cfg, run_dir, summary)


def _resummarize(cfg: DictConfig, run_dir: Path, before: dict[str, Any]) -> dict[str, Any]:
    workers = pd.read_csv(run_dir / "workers.csv")
    unfinished = int((workers["status"] == UNFINISHED).sum())
    failed = int(workers["error"].notna().sum())
    app = apps.load(cfg.app.name)
    outcome: dict[str, Any] = {"resumed": True}
    if hasattr(app, "run"):
        outcome.update(valid=False, validation="not re-validated: multi-stage apps need their "
                       "driver; rerun the experiment")
    else:
        params = app_params(cfg, app.Params)
        ctx = apps.RunContext(cfg.workers, cfg.mode.value, Path(cfg.data_dir))
        by_worker: list[Any] = [None] * cfg.workers
        with (run_dir / "results.jsonl").open() as lines:
            for line in lines:
                item = json.loads(line)
                if 0 <= item["worker_id"] < cfg.workers:
                    by_worker[item["worker_id"]] = item["result"]
        verdict = app.validate(params, ctx, by_worker)
        outcome.update(valid=verdict.valid, validation=verdict.detail)
    if unfinished:
        outcome.update(status="interrupted", message=f"{unfinished} workers still unfinished")
    elif failed:
        outcome.update(status="failed", message=f"{failed} of {cfg.workers} workers failed")
    elif not outcome["valid"]:
        outcome.update(status="invalid", message=f"wrong answer: {outcome['validation']}")
    else:
        outcome.update(status="ok", message=outcome["validation"])
    identity = {k: before.get(k) for k in ("app", "mode", "platform", "workers", "granularity",
                                           "backend", "repeat_index")}
    steps = {k[:-3]: v for k, v in before.items() if k.endswith("_ms") and k[:-3] in
             ("build", "deploy", "run", "validate", "total")}
    kept = {k: before.get(k) for k in ("build_cache", "platform_address", "deployed",
                                       "git_commit")}
    return results.summarize(run_dir, identity, steps, {**kept, **outcome})


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print("usage: python -m runner.resume RUN_DIR [key=value ...]", file=sys.stderr)
        return 2
    try:
        row = resume(Path(argv[0]), argv[1:])
    except ConfigError as error:
        print(f"resume: {error}", file=sys.stderr)
        return 2
    except (OpenWhiskError, OSError) as error:
        print(f"resume failed: {error}", file=sys.stderr)
        return 1
    print(f"{row['status']}: {row['message']}")
    return 0 if row["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
