"""Runtime settings of one platform instance, shared by the server and the invoker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Everything the CLI decides; immutable once the server is running."""

    host: str
    port: int
    uuid: str
    key: str
    namespace: str
    slots: int
    max_starting: int
    burst_backend: str
    backend_uri: str | None
    workdir: Path

    @property
    def api_key(self) -> str:
        """The ``uuid:key`` pair clients send and actions receive as ``api_key``."""
        return f"{self.uuid}:{self.key}"
