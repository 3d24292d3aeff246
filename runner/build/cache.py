"""Built actions on disk, named by a hash of everything that went into them.

The key covers the sources, the method and whatever else changes the output
(toolchain version, image, entry point, requirements), so a second build with
the same inputs is one file lookup: a sweep of many runs builds once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runner.build.spec import Runtime

# OpenWhisk refuses an action whose code (the base64 text for a zip) exceeds 48 MB.
CODE_SIZE_LIMIT = 48 * 1024 * 1024
# Build outputs that a local build may leave beside the sources: never part of them.
CARGO_OUTPUT = "target"
BYTECODE = "__pycache__"


class BuildError(RuntimeError):
    """The action cannot be built; the message says what to fix."""


@dataclass(frozen=True)
class Artifact:
    """A deployable action: its code file and the `exec` fields it runs with."""

    path: Path
    digest: str  # identity of what gets deployed: build key and runtime fields together
    cache_hit: bool
    size: int
    runtime: Runtime

    def exec_body(self) -> dict[str, Any]:
        """The `exec` object of OpenWhisk's action PUT."""
        data = self.path.read_bytes()
        code = base64.b64encode(data).decode() if self.runtime.binary else data.decode()
        body: dict[str, Any] = {"kind": self.runtime.kind, "code": code,
                                "binary": self.runtime.binary, "main": self.runtime.main}
        if self.runtime.image:
            body["image"] = self.runtime.image
        return body


class Fingerprint:
    """Accumulates the inputs of one build into its cache key."""

    def __init__(self, method: str) -> None:
        self._hash = hashlib.sha256()
        self.add("method", method)

    def add(self, label: str, value: str | bytes) -> Fingerprint:
        data = value.encode() if isinstance(value, str) else value
        self._hash.update(f"{label}:{len(data)}:".encode() + data)
        return self

    def add_files(self, files: Iterable[tuple[str, Path]]) -> Fingerprint:
        for name, path in files:
            self.add(f"file {name}", path.read_bytes())
        return self

    def key(self) -> str:
        return self._hash.hexdigest()


def tree_files(root: Path) -> list[tuple[str, Path]]:
    """(path relative to root, file) for a source tree, sorted.

    Hidden entries are left out, as `zip -r - *` leaves them out, and so are
    build outputs: cargo's top-level `target/` and Python's bytecode.
    """
    files = []
    for directory, subdirs, names in os.walk(root):
        skipped = {BYTECODE, CARGO_OUTPUT} if Path(directory) == root else {BYTECODE}
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d not in skipped)
        for name in names:
            if not name.startswith(".") and not name.endswith(".pyc"):
                path = Path(directory) / name
                files.append((path.relative_to(root).as_posix(), path))
    return sorted(files)


def cached(cache_dir: Path, prefix: str, key: str, suffix: str, runtime: Runtime,
           produce: Callable[[Path], None]) -> Artifact:
    """The artifact for `key`, calling `produce(path)` to write it only when it is not cached.

    The file is written under a temporary name and renamed, so concurrent runs
    never see half an artifact, and an oversized one is refused before it is kept.
    """
    target = cache_dir / f"{prefix}-{key[:32]}{suffix}"
    hit = target.is_file()
    if not hit:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=cache_dir, suffix=".partial")
        os.close(fd)
        try:
            produce(Path(partial))
            _check_size(Path(partial), runtime.binary)
            os.replace(partial, target)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
    identity = json.dumps(asdict(runtime), sort_keys=True)
    digest = hashlib.sha256(f"{key}\0{identity}".encode()).hexdigest()
    return Artifact(target, digest, hit, target.stat().st_size, runtime)


def _check_size(path: Path, binary: bool) -> None:
    size = path.stat().st_size
    uploaded = 4 * -(-size // 3) if binary else size  # base64 grows a zip by a third
    if uploaded > CODE_SIZE_LIMIT:
        raise BuildError(
            f"action code is {uploaded / 2**20:.1f} MB as uploaded (file {size / 2**20:.1f} MB), "
            "over OpenWhisk's 48 MB limit: vendor fewer requirements or put them in a custom "
            "image (app.image)"
        )
