"""Unpacking action zips into the workdir, once per distinct code.

The unpacked directory is named by the code's content hash, so redeploying the
same zip (a new version with unchanged code) costs nothing, and directories are
never rewritten while a process may still run from them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

from runner.platform.errors import ApiError


def decode_zip(code: str) -> bytes | None:
    """The zip bytes if ``code`` is a base64 zip archive, else None."""
    try:
        data = base64.b64decode("".join(code.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if data.startswith(b"PK") else None


def unpack(data: bytes, root: Path) -> Path:
    """Extract ``data`` under ``root`` (blocking: run it in a thread) and return its directory.

    The zip must hold a file named ``exec`` at its root; it is made executable.
    """
    target = root / hashlib.sha256(data).hexdigest()[:20]
    if target.is_dir():
        return target
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ApiError(400, f"The action code is not a valid zip archive: {exc}") from exc
    with archive:
        if "exec" not in archive.namelist():
            raise ApiError(
                400,
                "The action zip has no 'exec' at its root: the embedded platform runs the "
                "executable file named 'exec' (a binary or a #! script).",
            )
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=root, prefix=".unpack-"))
        try:
            _extract(archive, staging)
            os.rename(staging, target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not target.is_dir():  # not a concurrent unpack of the same code that won
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
    exec_path.chmod(exec_path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
