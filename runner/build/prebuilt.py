"""Actions built elsewhere: a zip with `exec` at its root, checked and uploaded as it is."""

from __future__ import annotations

import shutil
from pathlib import Path

from runner.build.cache import Artifact, Fingerprint, cached
from runner.build.spec import ActionSpec
from runner.build.zips import require_exec


def build_prebuilt(spec: ActionSpec, cache_dir: Path, log: Path) -> Artifact:
    """The zip `spec.source`, kept in the cache once it has passed the check."""
    key = Fingerprint("prebuilt").add("zip", spec.source.read_bytes()).key()

    def produce(target: Path) -> None:
        require_exec(spec.source, f"app.action={spec.source}")
        shutil.copyfile(spec.source, target)

    return cached(cache_dir, "prebuilt", key, ".zip", spec.runtime, produce)
