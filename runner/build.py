"""Packages Python actions as action-loop zips, cached by content hash.

The zip holds an `exec` launcher at its root, the action module and the
`burst` middleware package, so the same artifact runs on the embedded platform
and on any action-loop runtime of a real cluster.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

BURST_PACKAGE = Path(__file__).parent / "burst"
CODE_SIZE_LIMIT = 48 * 1024 * 1024
ACTION_MODULE = "action"

EXEC_TEMPLATE = """#!/usr/bin/env python3
import os, sys
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from burst.launcher import serve
serve(module="{module}", function="{function}")
"""


class BuildError(RuntimeError):
    """The action cannot be packaged; the message says what to fix."""


@dataclass(frozen=True)
class Artifact:
    path: Path
    digest: str
    cache_hit: bool
    size: int


def _package_files(source: Path, include: list[Path]) -> list[tuple[str, Path]]:
    """(name in zip, file on disk) for the action module, its helpers and the burst package."""
    files = [(f"{ACTION_MODULE}.py", source)]
    for path in include:
        if not path.is_file():
            raise BuildError(f"{path} does not exist: fix app.include")
        files.append((path.name, path))
    for path in sorted(BURST_PACKAGE.rglob("*.py")):
        files.append((f"burst/{path.relative_to(BURST_PACKAGE).as_posix()}", path))
    return files


def build_python_action(source: Path, function: str, cache_dir: Path,
                        include: list[Path] | None = None) -> Artifact:
    """Returns the zip for `source`, building it only when no identical one is cached."""
    if not source.is_file():
        raise BuildError(f"action source {source} does not exist: set app.action to a .py file")
    launcher = EXEC_TEMPLATE.format(module=ACTION_MODULE, function=function)
    files = _package_files(source, include or [])
    digest = hashlib.sha256(launcher.encode())
    for name, path in files:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    key = digest.hexdigest()
    target = cache_dir / f"python-{key[:32]}.zip"
    if target.is_file():
        return Artifact(target, key, True, target.stat().st_size)

    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=cache_dir, suffix=".partial")
    os.close(fd)
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            exec_info = zipfile.ZipInfo("exec")
            exec_info.external_attr = (stat.S_IFREG | 0o755) << 16
            exec_info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(exec_info, launcher)
            for name, path in files:
                archive.write(path, name)
        size = os.path.getsize(partial)
        if size > CODE_SIZE_LIMIT:
            raise BuildError(
                f"action zip is {size / 2**20:.1f} MB, over OpenWhisk's 48 MB code limit: "
                "vendor fewer dependencies or use a custom image"
            )
        os.replace(partial, target)  # atomic: concurrent sweeps never see half a zip
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return Artifact(target, key, False, size)
