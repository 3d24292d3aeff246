"""Python actions: an action-loop zip of the launcher, the action, the burst package and wheels.

The zip holds an `exec` launcher at its root, the action (a module or a
package), the app's helper modules, the `burst` middleware package and the
action's own requirements installed from wheels, so the same artifact runs on
the embedded platform and on any action-loop runtime of a real cluster.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from runner.build import tools
from runner.build.cache import Artifact, BuildError, Fingerprint, cached, tree_files
from runner.build.spec import ActionSpec
from runner.build.zips import write_action_zip

BURST_PACKAGE = Path(__file__).resolve().parent.parent / "burst"
ACTION_MODULE = "action"

EXEC_TEMPLATE = """#!/usr/bin/env python3
import os, sys
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from burst.launcher import serve
serve(module="{module}", function="{function}")
"""


def build_python(spec: ActionSpec, cache_dir: Path, log: Path) -> Artifact:
    """The zip for `spec`, built only when no identical one is cached."""
    module, files = _action_files(spec.source)
    for path in spec.include:
        if not path.is_file():
            raise BuildError(f"{path} does not exist: fix app.include")
        files.append((path.name, path))
    for path in sorted(BURST_PACKAGE.rglob("*.py")):
        files.append((f"burst/{path.relative_to(BURST_PACKAGE).as_posix()}", path))
    launcher = EXEC_TEMPLATE.format(module=module, function=spec.runtime.main)
    fingerprint = Fingerprint("python").add("exec", launcher).add_files(files)
    if spec.requirements:
        fingerprint.add("requirements", _requirements_key(spec.requirements))

    def produce(target: Path) -> None:
        _compile_own(files)
        vendored = _vendor(spec.requirements, cache_dir, log) if spec.requirements else []
        write_action_zip(target, launcher.encode(), files + vendored)

    return cached(cache_dir, "python", fingerprint.key(), ".zip", spec.runtime, produce)


def _compile_own(files: list[tuple[str, Path]]) -> None:
    """Compiles the app's own modules, so a syntax error stops the build before any deploy.

    Otherwise it shows only when the action runs: once per worker, under the
    zip's name for the file. Runs only when the zip is built, not on a cache hit.
    """
    for name, path in files:
        if not name.endswith(".py") or name.startswith("burst/"):
            continue
        try:
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        except SyntaxError as error:
            where = f"{path}, line {error.lineno}" if error.lineno else str(path)
            raise BuildError(f"{where}: {type(error).__name__}: {error.msg}") from None
        except ValueError as error:  # null bytes
            raise BuildError(f"{path}: {error}") from None


def _action_files(source: Path) -> tuple[str, list[tuple[str, Path]]]:
    """The module the launcher imports and the files that make it up."""
    if source.is_file():
        return ACTION_MODULE, [(f"{ACTION_MODULE}.py", source)]
    if (source / "__init__.py").is_file() and source.name.isidentifier():
        return source.name, [(f"{source.name}/{name}", path) for name, path in tree_files(source)]
    raise BuildError(
        f"action source {source} is neither a .py file nor a package directory (with "
        "__init__.py and an importable name): set app.action to one"
    )


def _requirements_key(requirements: tuple[str, ...]) -> str:
    """Wheels depend on the interpreter and machine; a local wheel or file also on its content."""
    key = Fingerprint("pip").add("python", f"{sys.implementation.name}{sys.version_info[:2]}")
    key.add("machine", f"{sys.platform}-{platform.machine()}")
    for requirement in requirements:
        key.add("requirement", requirement)
        if Path(requirement).is_file():
            key.add("content", Path(requirement).read_bytes())
    return key.key()


def _vendor(requirements: tuple[str, ...], cache_dir: Path, log: Path) -> list[tuple[str, Path]]:
    """Installs the requirements from wheels once per distinct set; returns the files to zip."""
    target = cache_dir / "pip" / _requirements_key(requirements)[:32]
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".install-"))
        try:
            tools.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "--no-compile", "--only-binary=:all:", "--target", str(staging),
                 *requirements],
                "pip install of app.requirements (wheels only)", log,
            )
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():  # not another run that vendored the same set first
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return [(name, path) for name, path in tree_files(target) if not name.startswith("bin/")]
