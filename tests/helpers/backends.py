"""Every inter-pack backend as the burst tests use it: its pack-line entry, and its leftovers."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runner.platform.servers import S3_BUCKET, RunningServer
from tests.helpers.burst import leftover_keys

# backend_type of every backend, in the order the tests run them
REMOTE_TYPES = ["RedisList", "RedisStream", "Rabbitmq", "S3"]
BACKEND_TYPES = ["Local", *REMOTE_TYPES]
SERVER_FIXTURE = {"RedisList": "redis_server", "RedisStream": "redis_server",
                  "Rabbitmq": "rabbitmq_server", "S3": "s3_server"}


@dataclass
class BackendCase:
    """One backend for a burst: ``backend_info`` for its pack lines, and a way to list leftovers."""

    backend_type: str
    make_uri: Callable[[], str]
    leftovers: Callable[[str], list[str]]  # burst id -> keys, queues or objects it left
    # An object store has no blocking reads: its workers poll, and a big burst's polls
    # alone would saturate a small machine's moto server.
    max_workers: int = 24

    def info(self) -> dict[str, Any]:
        return {"backend_type": self.backend_type, "uri": self.make_uri()}


def local_case() -> BackendCase:
    directory = tempfile.mkdtemp(prefix="bt-", dir="/tmp")
    return BackendCase("Local", lambda: directory, lambda _burst: os.listdir(directory))


def remote_case(backend_type: str, server: RunningServer) -> BackendCase:
    if server.server.name == "redis":
        return BackendCase(backend_type, lambda: server.uri,
                           lambda burst: [k.decode() for k in leftover_keys(server.uri, burst)])
    if server.server.name == "rabbitmq":
        return BackendCase(backend_type, lambda: server.uri,
                           lambda burst: rabbitmq_queues(server, f"burst.{burst}."))
    return BackendCase(backend_type, lambda: server.uri,
                       lambda burst: s3_objects(server, f"burst/{burst}/"), max_workers=8)


def rabbitmq_queues(server: RunningServer, prefix: str) -> list[str]:
    """Queues of the node whose names start with ``prefix`` (rabbitmqctl, as the node's user)."""
    command = ["/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", server.env["RABBITMQ_NODENAME"],
               "list_queues", "-q", "--no-table-headers", "name"]
    user = {"user": "rabbitmq"} if os.geteuid() == 0 else {}
    listing = subprocess.run(command, env=server.env, cwd=server.directory, capture_output=True,
                             text=True, timeout=60, check=True, **user)
    return sorted(name for name in listing.stdout.split() if name.startswith(prefix))


def s3_objects(server: RunningServer, prefix: str) -> list[str]:
    import boto3

    endpoint = server.uri.partition("endpoint=")[2]
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def backend_for(backend_type: str, local_dir: str, request: Any) -> dict[str, Any]:
    """The ``backend_info`` of a pack line for ``backend_type``, its server from a fixture."""
    if backend_type == "Local":
        return {"backend_type": "Local", "uri": local_dir}
    server = request.getfixturevalue(SERVER_FIXTURE[backend_type])
    return {"backend_type": backend_type, "uri": server.uri}


def leftovers(backend_type: str, request: Any, burst_id: str) -> list[str]:
    """What burst ``burst_id`` left on ``backend_type``'s server."""
    server = request.getfixturevalue(SERVER_FIXTURE[backend_type])
    return remote_case(backend_type, server).leftovers(burst_id)
