"""Turns activation records into the run directory's row files.

Rows are appended and flushed the moment an activation is seen finished, so an
interrupted run keeps every measurement it took, and a row is on disk whole or
not at all, so a full disk never leaves half a row for a reader to take as data;
`widen_workers` then adds the app's own columns to `workers.csv`
(runner/rundir/summary.py writes the summary).
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.rundir.files import (
    ACTIVATIONS,
    LOGS,
    RESULTS,
    WORKERS,
    WriteError,
    replacing,
    writing,
)

ACTIVATION_COLUMNS = [
    "stage", "activation_id", "kind", "workers", "submit_ms", "accepted_ms", "start_ms",
    "end_ms", "duration_ms", "wait_ms", "init_ms", "detected_ms", "status", "error",
]
WORKER_COLUMNS = [
    "stage", "worker_id", "activation_id", "pack", "start_ms", "end_ms", "status", "error",
]
ENVELOPE_KEYS = {"worker_id", "start_ms", "end_ms", "result", "error"}


@dataclass
class Submission:
    """One activation the runner asked for: a map worker or a burst pack."""

    stage: str
    kind: str  # map | pack
    worker_ids: list[int]
    pack: int | None
    submit_ms: int
    accepted_ms: int | None = None
    activation_id: str | None = None
    error: str | None = None
    record: dict | None = None  # filled at once by a blocking invocation


@dataclass
class WorkerOutcome:
    worker_id: int
    result: Any
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


class _Lines:
    """An append-only file of whole lines, written straight to the disk.

    Each write goes to the file at once (a crash keeps it); one the disk cannot
    take whole (it is full) is cut back to the last whole line before the error
    is raised.
    """

    def __init__(self, path: Path, append: bool):
        self.path = path
        with writing(path):  # O_APPEND: after a cut-back the next line starts where it was cut
            mode = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (0 if append else os.O_TRUNC)
            self._fd: int | None = os.open(path, mode, 0o644)
            self.size = os.fstat(self._fd).st_size

    def write(self, text: str) -> None:
        data = text.encode()
        left = memoryview(data)
        with writing(self.path):
            try:
                while left:
                    left = left[os.write(self._fd, left):]
            except OSError:
                self._cut_back()
                raise
        self.size += len(data)

    def _cut_back(self) -> None:
        try:
            os.ftruncate(self._fd, self.size)
        except OSError:
            pass  # the write's own error is the one to report

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with writing(self.path):
                os.close(fd)


@dataclass
class _Csv:
    """A row file: a header when it starts, then one whole line per row."""

    path: Path
    columns: list[str]
    append: bool = False
    _lines: _Lines | None = field(init=False, default=None)
    _buffer: io.StringIO = field(init=False, default_factory=io.StringIO)
    _writer: Any = field(init=False, default=None)

    def write(self, row: dict[str, Any]) -> None:
        if self._lines is None:
            self._lines = _Lines(self.path, self.append and self.path.is_file())
            self._writer = csv.DictWriter(self._buffer, self.columns, extrasaction="ignore")
            if self._lines.size == 0:
                self._writer.writeheader()
        self._writer.writerow(row)
        line = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        self._lines.write(line)

    def close(self) -> None:
        if self._lines is not None:
            self._lines.close()


def _annotation(record: dict, key: str) -> Any:
    for item in record.get("annotations") or []:
        if item.get("key") == key:
            return item.get("value")
    return None


def _run_start(record: dict) -> Any:
    """When the action's code began to run: the start of its worker.

    OpenWhisk's record of a cold start begins before the initialization (its
    ``start`` is the run's start minus ``initTime``, ContainerProxy), while a
    worker starts when its code runs, as a burst worker's own ``start_ms`` says;
    so map workers and burst workers are measured alike, on any platform.
    """
    start, init = record.get("start"), _annotation(record, "initTime")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, init))
    return start + init if numbers else start


def _error_text(result: Any) -> str:
    if isinstance(result, dict) and "error" in result:
        error = result["error"]
        return error if isinstance(error, str) else json.dumps(error)
    return json.dumps(result)[:500]


def _is_envelope(value: Any) -> bool:
    return isinstance(value, dict) and ENVELOPE_KEYS <= value.keys()


class Recorder:
    """Owns the run directory's row files for the whole run."""

    def __init__(self, run_dir: Path, append: bool = False):
        """`append` continues the files of an earlier, interrupted session (resume)."""
        self.run_dir = run_dir
        self.activations = _Csv(run_dir / ACTIVATIONS, ACTIVATION_COLUMNS, append)
        self.workers = _Csv(run_dir / WORKERS, WORKER_COLUMNS, append)
        self._results = _Lines(run_dir / RESULTS, append)

    def close(self) -> None:
        """Closes every file, even when one cannot be flushed (a full disk); raises the first."""
        failures = []
        for close in (self.activations.close, self.workers.close, self._results.close):
            try:
                close()
            except WriteError as error:
                failures.append(error)
        if failures:
            raise failures[0]

    def save_logs(self, activation_id: str, lines: list[str]) -> None:
        path = self.run_dir / LOGS / f"{activation_id}.log"
        with writing(path):
            path.parent.mkdir(exist_ok=True)
            path.write_text("".join(f"{line}\n" for line in lines))

    def _write_worker(self, row: dict[str, Any], result: Any) -> WorkerOutcome:
        self.workers.write(row)
        if result is not None:
            line = {"stage": row["stage"], "worker_id": row["worker_id"], "result": result}
            self._results.write(json.dumps(line) + "\n")
        return WorkerOutcome(row["worker_id"], result, row["error"])

    def failed(self, sub: Submission, status: str, error: str) -> list[WorkerOutcome]:
        """An activation that never ran or never finished: one failed row each, no record."""
        self.activations.write({
            "stage": sub.stage, "activation_id": sub.activation_id or "", "kind": sub.kind,
            "workers": len(sub.worker_ids), "submit_ms": sub.submit_ms,
            "accepted_ms": sub.accepted_ms, "status": status, "error": error,
        })
        return [
            self._write_worker({
                "stage": sub.stage, "worker_id": worker_id, "activation_id": sub.activation_id,
                "pack": sub.pack, "status": status, "error": error,
            }, None)
            for worker_id in sub.worker_ids
        ]

    def finished(self, sub: Submission, record: dict, detected_ms: int) -> list[WorkerOutcome]:
        """Writes the activation row and its worker rows; returns the workers' outcomes."""
        members = _annotation(record, "burst")
        held = members.get("workers") if isinstance(members, dict) else None
        if sub.kind == "pack" and isinstance(held, list) and len(held) == 2:
            # the platform says which workers the pack held (heterogeneous packing, join)
            sub.worker_ids = list(range(held[0], held[1] + 1))
        response = record.get("response") or {}
        status = response.get("status", "unknown")
        result = response.get("result")
        success = bool(response.get("success"))
        wait_ms = _annotation(record, "waitTime")
        self.activations.write({
            "stage": sub.stage, "activation_id": sub.activation_id, "kind": sub.kind,
            "workers": len(sub.worker_ids), "submit_ms": sub.submit_ms,
            "accepted_ms": sub.accepted_ms, "start_ms": record.get("start"),
            "end_ms": record.get("end"), "duration_ms": record.get("duration"),
            "wait_ms": wait_ms, "init_ms": _annotation(record, "initTime"),
            "detected_ms": detected_ms, "status": status,
            "error": "" if success else _error_text(result),
        })
        base = {
            "stage": sub.stage, "activation_id": sub.activation_id, "pack": sub.pack,
            "start_ms": _run_start(record), "end_ms": record.get("end"),
        }
        if sub.kind == "map":
            error = None if success else _error_text(result)
            return [self._write_worker(
                {**base, "worker_id": sub.worker_ids[0], "status": status, "error": error},
                result if success else None,
            )]
        return self._pack_workers(sub, base, status, result)

    def _pack_workers(
        self, sub: Submission, base: dict, status: str, result: Any
    ) -> list[WorkerOutcome]:
        entries = result if isinstance(result, list) else None
        if entries is None or len(entries) != len(sub.worker_ids):
            error = _error_text(result) if entries is None else (
                f"pack answered {len(entries)} results for {len(sub.worker_ids)} workers"
            )
            return [
                self._write_worker({**base, "worker_id": w, "status": status, "error": error}, None)
                for w in sub.worker_ids
            ]
        outcomes = []
        for worker_id, entry in zip(sub.worker_ids, entries, strict=True):
            row = {**base, "worker_id": worker_id, "status": "success", "error": None}
            value = entry
            if _is_envelope(entry):
                row.update(start_ms=entry["start_ms"], end_ms=entry["end_ms"])
                value = entry["result"]
                if entry["error"]:  # a worker at a limit names OpenWhisk's status for it
                    row.update(status=str(entry.get("status") or "application error"),
                               error=str(entry["error"]))
                    value = None
            outcomes.append(self._write_worker(row, value))
        return outcomes


def _app_columns(run_dir: Path) -> tuple[list[str], dict[tuple[str, str], dict[str, Any]]]:
    """Scalar top-level keys of each worker's result: the column names and each worker's values.

    Keyed by (stage, worker id) as text, the way workers.csv holds them; a
    worker's last result wins, as in `files.results_by_worker`.
    """
    columns: dict[str, None] = {}
    values: dict[tuple[str, str], dict[str, Any]] = {}
    path = run_dir / RESULTS
    if not path.is_file():
        return [], values
    with path.open() as lines:
        for line in lines:
            item = json.loads(line)
            result = item["result"] if isinstance(item["result"], dict) else {}
            scalars = {
                k: v for k, v in result.items()
                if isinstance(v, (int, float, str, bool)) and k not in WORKER_COLUMNS
            }
            columns.update(dict.fromkeys(scalars))
            values[(str(item["stage"]), str(item["worker_id"]))] = scalars
    return list(columns), values


def widen_workers(run_dir: Path) -> None:
    """Rewrites workers.csv with the app's result columns appended."""
    columns, values = _app_columns(run_dir)
    if not columns:
        return
    path = run_dir / WORKERS
    with path.open(newline="") as lines:
        reader = csv.DictReader(lines)
        header = [name for name in reader.fieldnames or [] if name not in columns]
        rows = list(reader)
    with replacing(path) as widened, widened.open("w", newline="") as file:
        writer = csv.DictWriter(file, [*header, *columns], extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, **values.get((row["stage"], row["worker_id"]), {})})
