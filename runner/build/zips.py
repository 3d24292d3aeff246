"""Action zips: writing one with an executable `exec` at its root, and checking one built elsewhere.

Every artifact the embedded platform or an action-loop runtime can run is such
a zip (docs/design.md, "The action loop"), whichever method produced it.
"""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterable
from pathlib import Path

from runner.build.cache import BuildError


def write_action_zip(target: Path, exec_data: bytes, files: Iterable[tuple[str, Path]]) -> None:
    """`exec` (mode 755) and then `files` (name in zip, file on disk) into `target`."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("exec")
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, exec_data)
        for name, path in files:
            archive.write(path, name)


def zip_files(files: Iterable[tuple[str, Path]]) -> bytes:
    """An in-memory zip of source files, keeping their modes (what `zip -r - *` sends)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in files:
            archive.write(path, name)
    return buffer.getvalue()


def require_exec(path: Path, origin: str) -> None:
    """Refuses anything but a zip with `exec` at its root, saying what `origin` gave instead."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        raise BuildError(f"{origin} is not a zip archive ({error})") from error
    if "exec" not in names:
        found = ", ".join(names[:5]) or "nothing"
        raise BuildError(f"{origin} has no `exec` at its root (it holds {found})")
