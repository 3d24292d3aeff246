"""An S3-compatible server (moto's) on a free loopback port, and buckets and keys for it.

Keys go into the environment, which the runner that `run_cli` starts inherits
and passes on to the embedded platform's actions, as a user's would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from ow_apps import storage
from tests.helpers.s3 import CREDENTIALS, free_port


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Moto's keys and nothing else: no profile, no files, no instance metadata to ask."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    storage._connect.cache_clear()  # a cached client keeps the keys it was made with
    yield
    storage._connect.cache_clear()


@pytest.fixture
def s3(s3_endpoint: str, aws_env: None) -> Any:
    """A client of the test server, to set up and inspect buckets behind the storage's back."""
    return boto3.session.Session().client("s3", endpoint_url=s3_endpoint)


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name
