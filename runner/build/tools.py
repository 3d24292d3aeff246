"""External build tools (cargo, docker, pip): finding them and running them with a log.

A tool's full output goes to the run's `build.log`; what reaches the user is
one line: the first error the tool reported and where the rest is.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from runner.build.cache import BuildError

SUMMARY_CHARS = 300


def find(tool: str, method: str, alternative: str) -> str:
    """The path of `tool`, or a one-line error naming the build method and what to use instead."""
    path = shutil.which(tool)
    if path is None:
        raise BuildError(f"app.build={method} needs `{tool}`, which is not on PATH: {alternative}")
    return path


def run(command: list[str], what: str, log: Path, *, cwd: Path | None = None,
        env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> bytes:
    """Runs `command` and returns its stdout; its stderr is appended to `log`.

    A non-zero exit raises BuildError with the tool's first error line.
    """
    completed = subprocess.run(command, cwd=cwd, env=env, input=stdin, capture_output=True,
                               check=False)
    with log.open("ab") as out:
        out.write(f"$ {shlex.join(command)}\n".encode())
        out.write(completed.stderr)
    if completed.returncode != 0:
        summary = first_error(completed.stderr.decode(errors="replace"), Path(command[0]).name)
        raise BuildError(
            f"{what} failed (exit {completed.returncode}): {summary}; full output in {log}"
        )
    return completed.stdout


def first_error(output: str, tool: str = "") -> str:
    """The first error line of a tool's output with the location line after it, if any.

    An error line starts with `error` (cargo, rustc, pip) or with the tool's own
    name (`docker: Cannot connect to the Docker daemon ...`, followed by a usage
    hint that says nothing of the cause). Falls back to the last non-empty line.
    """
    starts = ("error", f"{tool.lower()}:") if tool else ("error",)
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.lstrip().lower().startswith(starts):
            following = lines[index + 1].strip() if index + 1 < len(lines) else ""
            where = f" {following}" if following.startswith("-->") else ""
            return (line.strip() + where)[:SUMMARY_CHARS]
    return lines[-1][:SUMMARY_CHARS] if lines else "no output"
