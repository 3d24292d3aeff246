"""What an app's contract module (`ow_apps/<name>/__init__.py`) is given and returns.

An app provides `Params` (a dataclass extending `AppConfig`: its parameters and
their defaults), `payloads(params, ctx) -> list[dict]` (one per worker) and
`validate(params, ctx, answer) -> Validation`. By default the answer is the
list of worker results indexed by worker id; an app that needs more than one
stage (or a driver) provides `run(params, ctx, executor) -> answer` instead.
The README's "Adding an app" spells the whole contract out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.config.schema import AppConfig


@dataclass(frozen=True)
class RunContext:
    """What an app may know about the run it is part of."""

    workers: int
    mode: str  # map | burst
    data_dir: Path
    # The `storage` settings, read by ow_apps.storage.root; None: files under data_dir.
    storage: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Validation:
    valid: bool
    detail: str = ""


__all__ = ["AppConfig", "RunContext", "Validation"]
