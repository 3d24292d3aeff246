"""`python -m runner.resume RUN_DIR [overrides]`: finish collecting an interrupted run.

See runner/pipeline/resume.py for what resuming does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from runner.client.openwhisk import OpenWhiskError
from runner.config import ConfigError, project
from runner.pipeline.resume import resume
from runner.rundir import files


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print("usage: python -m runner.resume RUN_DIR [key=value ...]", file=sys.stderr)
        return 2
    try:
        named, overrides = project.pop_option(argv[1:])
        project.activate(project.find(named))
        row = resume(Path(argv[0]), overrides)
    except ConfigError as error:
        print(f"resume: {error}", file=sys.stderr)
        return 2
    except (OpenWhiskError, OSError, files.WriteError) as error:
        print(f"resume failed: {error}", file=sys.stderr)
        return 1
    ok = row["status"] == "ok"
    print(f"{row['status']}: {row['message']}", file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
