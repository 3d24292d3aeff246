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


def validate_unless_failed(app: Any, params: Any, ctx: RunContext, answer: Any,
                           failed: int) -> Validation:
    """The app's check of the answer, unless workers failed.

    A run with failed workers has failed whatever the check says, and checking
    answers that were never produced can take long (an app may recompute every
    expected result), so it is skipped and the summary says why. A run and a
    resumed run decide this alike.
    """
    if failed:
        return Validation(False, f"skipped: {failed} workers failed, so their results "
                                 "are missing")
    return app.validate(params, ctx, answer)


__all__ = ["AppConfig", "RunContext", "Validation", "validate_unless_failed"]
