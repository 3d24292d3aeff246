"""Putting action code into the workdir, once per distinct code.

Each directory is named by the code's content hash, so redeploying the same
code (a new version with unchanged code) costs nothing, and directories are
never rewritten while a process may still run from them. Python files are
compiled here, once: a cold start then loads bytecode instead of compiling
every module again (which each start would do wherever PYTHONDONTWRITEBYTECODE
is set or the directory is not writable).
"""

from __future__ import annotations

import base64
import binascii
import compileall
import hashlib
import io
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from runner.platform.errors import ApiError

SOURCE_FILE = "__main__.py"


def decode_zip(code: str) -> bytes | None:
    """The zip bytes if ``code`` is a base64 zip archive, else None."""
    try:
        data = base64.b64decode("".join(code.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if data.startswith(b"PK") else None


def unpack(data: bytes, root: Path) -> Path:
    """Extract zip ``data`` under ``root`` (blocking: run it in a thread); its directory."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ApiError(400, f"The action code is not a valid zip archive: {exc}") from exc
    with archive:
        return _materialize(data, root, lambda staging: _extract(archive, staging))


def write_source(text: str, root: Path) -> Path:
    """Store source text as ``__main__.py`` under ``root`` (blocking); its directory."""
    data = text.encode()
    return _materialize(data, root, lambda staging: (staging / SOURCE_FILE).write_bytes(data))


def _materialize(data: bytes, root: Path, fill: Callable[[Path], object]) -> Path:
    target = root / hashlib.sha256(data).hexdigest()[:20]
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".unpack-"))
    try:
        fill(staging)
        compileall.compile_dir(staging, quiet=2, workers=1)
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():  # not a concurrent unpack of the same code that won
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _extract(archive: zipfile.ZipFile, into: Path) -> None:
    """Extract keeping the Unix permission bits zip tools record (extractall drops them)."""
    for info in archive.infolist():
        path = Path(archive.extract(info, into))
        mode = (info.external_attr >> 16) & 0o777
        if mode and not info.is_dir():
            path.chmod(mode | stat.S_IRUSR)
    exec_path = into / "exec"
    if exec_path.is_file():
        exec_path.chmod(exec_path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
