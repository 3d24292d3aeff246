"""`python -m runner.check [overrides]`: can the configured platform be used at all?

Verifies address, TLS, key and namespace with two harmless requests before a
long sweep is started, and prints the namespace's limits.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from omegaconf import DictConfig

from runner import config
from runner.client import connect
from runner.client.openwhisk import OpenWhiskError
from runner.config import project
from runner.config.compose import compose


def check(cfg: DictConfig) -> str:
    with tempfile.TemporaryDirectory() as scratch, \
            connect.from_config(cfg, Path(scratch)) as connection:
        limits = connection.client.limits()
        connection.client.list_activations(limit=1)
        shown = ", ".join(f"{k}={v}" for k, v in sorted(limits.items())) or "none reported"
        return f"ok: {connection.description}; namespace limits: {shown}"


def main(argv: list[str]) -> int:
    try:
        named, overrides = project.pop_option(argv)
        cfg = compose(overrides, project.find(named))
    except config.ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    try:
        print(check(cfg))
    except config.ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    except (OpenWhiskError, RuntimeError) as error:
        print(f"check failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
