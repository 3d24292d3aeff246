"""`python -m runner [overrides]`: starts the embedded platform's interpreter, then the CLI.

Most of the platform's start is Python importing its modules. Begun first, it
runs while this process imports Hydra and composes the config (runner/cli.py);
a run on a cluster, or one that never gets that far, lets it exit unused.
"""

from __future__ import annotations

import sys

from runner.client import early
from runner.platform.quick_exit import exit_now


def main() -> int:
    if "platform=openwhisk" not in sys.argv[1:]:
        early.start()
    from runner import cli  # after the platform's start: this import takes a while

    try:
        cli.main()
    except SystemExit as done:
        if isinstance(done.code, str):  # what sys.exit("...") would print
            print(done.code, file=sys.stderr)
            return 1
        return done.code or 0
    return 0


if __name__ == "__main__":
    exit_now(main())
