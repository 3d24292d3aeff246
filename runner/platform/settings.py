"""Runtime settings of one platform instance, shared by the server and the invoker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.platform.limits import MIB


@dataclass(frozen=True)
class Settings:
    """Everything the CLI decides; immutable once the server is running."""

    host: str
    port: int
    uuid: str
    key: str
    namespace: str
    invokers: int
    slots: int
    max_starting: int
    burst_backend: str
    backend_uri: str | None
    workdir: Path
    max_payload_mb: float = 1.0
    max_result_mb: float = 1.0
    invocations_per_minute: int | None = None
    concurrent_invocations: int | None = None
    state: Path | None = None

    @property
    def api_key(self) -> str:
        """The ``uuid:key`` pair clients send and actions receive as ``api_key``."""
        return f"{self.uuid}:{self.key}"

    @property
    def max_payload_bytes(self) -> int:
        return int(self.max_payload_mb * MIB)

    @property
    def max_result_bytes(self) -> int:
        return int(self.max_result_mb * MIB)
