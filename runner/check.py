"""`python -m runner.check [overrides]`: can the configured platform be used at all?

Verifies address, TLS, key and namespace with two harmless requests before a
long sweep is started, and prints the namespace's limits.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import DictConfig

from . import config, connect
from .openwhisk import OpenWhiskError

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"


def check(cfg: DictConfig) -> str:
    with tempfile.TemporaryDirectory() as scratch, \
            connect.from_config(cfg, Path(scratch)) as connection:
        limits = connection.client.limits()
        connection.client.list_activations(limit=1)
        shown = ", ".join(f"{k}={v}" for k, v in sorted(limits.items())) or "none reported"
        return f"ok: {connection.description}; namespace limits: {shown}"


def main(argv: list[str]) -> int:
    config.register()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("config", overrides=argv)
    except HydraException as error:
        print(f"config error: {config.describe_omegaconf_error(error)}", file=sys.stderr)
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
