"""Parse a burst pack line into what one pack needs to run its workers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .topology import Topology

# OpenWhisk's default action time limit, used when a line carries no deadline.
DEFAULT_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class MiddlewareSpec:
    """How workers of different packs reach each other."""

    backend_type: str
    uri: str | None
    chunk_size_kb: int | None
    burst_id: str
    deadline_ms: float


@dataclass(frozen=True)
class PackSpec:
    """One pack of one burst: its workers' params, their place in the burst, and the backend."""

    group_id: str
    topology: Topology
    params: list[Any]
    middleware: MiddlewareSpec

    @property
    def worker_ids(self) -> range:
        return self.topology.members(self.group_id)


def line_deadline_ms(line: dict[str, Any]) -> float:
    """The activation's deadline in epoch ms (the platform sends it as a string or a number)."""
    raw = line.get("deadline")
    if raw in (None, ""):
        return time.time() * 1000 + DEFAULT_TIMEOUT_MS
    return float(raw)


def parse_pack_line(line: dict[str, Any]) -> PackSpec:
    """Validate a pack line; raise ValueError saying what is wrong with it."""
    topology = Topology(line["burst_info"])
    group_id = str(line.get("invoker_id"))
    if group_id not in topology.ranges:
        raise ValueError(f"invoker_id {group_id!r} is not a group of burst_info")
    params = line.get("value")
    members = topology.members(group_id)
    if not isinstance(params, list) or len(params) != len(members):
        raise ValueError(
            f"value must be a list of {len(members)} params for workers "
            f"{members.start}..{members.stop - 1}"
        )
    middleware = line.get("middleware") or {}
    info = middleware.get("backend_info") or {}
    chunk = middleware.get("chunk_size")
    return PackSpec(
        group_id=group_id,
        topology=topology,
        params=params,
        middleware=MiddlewareSpec(
            backend_type=str(info.get("backend_type", "Local")),
            uri=info.get("uri"),
            chunk_size_kb=int(chunk) if chunk not in (None, "", 0) else None,
            burst_id=str(line.get("transaction_id", "")),
            deadline_ms=line_deadline_ms(line),
        ),
    )
