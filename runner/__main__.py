"""`python -m runner [overrides]`: starts the embedded platform's interpreter, then the CLI.

Most of the platform's start is Python importing its modules. Begun first, it
runs while this process imports Hydra and composes the config (runner/cli.py);
a run on a cluster, or one that never gets that far, lets it exit unused.
"""

from __future__ import annotations

import sys

from runner.client import early


def main() -> None:
    if "platform=openwhisk" not in sys.argv[1:]:
        early.start()
    from runner import cli  # after the platform's start: this import takes a while

    cli.main()


if __name__ == "__main__":
    main()
