"""The burst extension: backends, and what each pack's process is told.

One burst = N workers split into packs (``packing.py``); each pack is one
activation run by one process, and all packs share a burst id and a
communication backend (docs/design.md, "The burst extension").
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from runner.burst import catalog
from runner.platform.errors import ApiError

# Unix socket paths must stay under ~100 bytes; burst directories live under a root
# no longer than this, leaving room for the socket names the middleware creates inside.
_MAX_ROOT_LEN = 40


def backend_type(name: str, backend_uri: str | None) -> str:
    """Validate ``?backend=`` against what this platform can hand to the middleware."""
    kind = catalog.lookup(name)
    if kind is None:
        raise ApiError(400, f"Unknown burst backend '{name}'; supported backends: "
                            f"{catalog.names()}.")
    if kind.server is not None and (
        not backend_uri or catalog.server_of_uri(backend_uri) != kind.server
    ):
        raise ApiError(
            400,
            f"The burst backend '{name}' needs a {kind.server.name} server, but this platform "
            f"has none (start it with --burst-backend {name}, or a --backend-uri of one).",
        )
    return kind.backend_type


class BurstDirs:
    """Short-lived directories for the ``Local`` backend, one per burst."""

    def __init__(self, workdir: Path) -> None:
        root = workdir / "b"
        if len(str(root)) > _MAX_ROOT_LEN:
            # A long --workdir would push socket paths over the limit: use a short temp root.
            root = Path(tempfile.mkdtemp(prefix="owb-"))
        root.mkdir(parents=True, exist_ok=True)
        self.root = root

    def create(self) -> Path:
        return Path(tempfile.mkdtemp(dir=self.root, prefix=""))

    @staticmethod
    def remove(path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def pack_fields(
    group: int,
    burst_id: str,
    info: dict[str, list[int]],
    backend: dict[str, Any],
    chunk_size: int | None,
    debug: bool,
) -> dict[str, Any]:
    """The burst-specific keys of a pack's stdin line (value and the map keys come on top)."""
    return {
        "invoker_id": str(group),
        "transaction_id": burst_id,
        "burst_info": info,
        "middleware": {"backend_info": backend, "chunk_size": chunk_size},
        "debug": debug,
    }
