"""How an action's code runs here, decided once when it is deployed.

- A zip with an ``exec`` file at its root runs that ``exec`` as is, whatever
  the kind: that is what OpenWhisk's action-loop runtimes do with such a zip.
- Kind ``python:3``, ``python:3.x`` or ``python:default`` with source text
  (defining the ``exec.main`` function, ``main`` by default), or with a zip
  holding ``__main__.py`` (and optionally ``virtualenv/``), runs in the
  platform's own Python action loop (``pyloop.py``) with the platform's
  interpreter. Such actions serve map invocations only: bursts need the
  middleware inside the action, which only an ``exec`` zip can bring.
- Anything else would need a container image, which cannot run here.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from runner.platform.artifacts import SOURCE_FILE, decode_zip, unpack, write_source
from runner.platform.errors import ApiError

PYLOOP = Path(__file__).with_name("pyloop.py")
_PYTHON_KIND = re.compile(r"python:(3(\.\d+)?|default)")
# ``<family>:default`` names no runtime: OpenWhisk stores the family's default kind
# instead. Python's is this platform's own loop, ``python:3``; the others are the
# defaults of OpenWhisk's stock runtime manifest (their ``exec`` zips run here as is).
DEFAULT_KINDS: dict[str, str] = {
    "python": "python:3",
    "nodejs": "nodejs:20",
    "go": "go:1.20",
    "java": "java:8",
    "swift": "swift:5.3",
    "php": "php:8.1",
    "ruby": "ruby:2.5",
    "dotnet": "dotnet:3.1",
    "rust": "rust:1.34",
}
_DEFAULT_KIND = re.compile(r"([a-z0-9]+):default")


def resolve_kind(kind: str) -> str:
    """The kind to store: a family's default for ``<family>:default``, else ``kind``.

    Clients such as the wsk CLI send ``python:default`` when no kind was given;
    OpenWhisk records the runtime it resolves to. An unknown family is kept as sent
    (OpenWhisk would refuse it; here any kind's ``exec`` zip runs).
    """
    match = _DEFAULT_KIND.fullmatch(kind)
    if match is None:
        return kind
    return DEFAULT_KINDS.get(match.group(1), kind)


@dataclass(frozen=True)
class Runtime:
    """Where an action's code lives and the command that serves its activations."""

    directory: Path
    command: tuple[str, ...]
    own_loop: bool  # served by pyloop.py: always acknowledges its start, map only
    binary: bool  # the code was a zip (OpenWhisk reports it as ``exec.binary``)


def prepare(kind: str, code: str, main: str, root: Path) -> Runtime:
    """Put ``code`` under ``root`` and decide how it runs (blocking: run it in a thread)."""
    python = _PYTHON_KIND.fullmatch(kind) is not None
    data = decode_zip(code)
    if data is None:
        if not python:
            raise ApiError(
                400,
                f"The embedded platform cannot run source code of kind '{kind}': deploy a "
                "base64 zip whose root holds an executable 'exec', or Python source "
                "with kind 'python:3'.",
            )
        directory = write_source(code, root)
        return _pyloop(directory, main, binary=False)
    directory = unpack(data, root)
    if (directory / "exec").is_file():
        return Runtime(directory, (str(directory / "exec"),), own_loop=False, binary=True)
    if python and (directory / SOURCE_FILE).is_file():
        return _pyloop(directory, main, binary=True)
    expected = "an executable 'exec'" + (" or '__main__.py'" if python else "")
    raise ApiError(
        400,
        f"The action zip has no {expected} at its root: the embedded platform runs the "
        "executable file named 'exec' (a binary or a #! script).",
    )


def _pyloop(directory: Path, main: str, binary: bool) -> Runtime:
    command = (sys.executable, str(PYLOOP), str(directory / SOURCE_FILE), main)
    return Runtime(directory, command, own_loop=True, binary=binary)
