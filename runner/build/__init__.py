"""The build step: an app's action sources in, a deployable artifact out, cached by content.

`resolve` turns the app's config into an `ActionSpec` (what to build, how,
and which runtime runs it) and refuses impossible combinations as config
errors before anything runs; `build` hands the spec to its method's builder:

- python: zip of the launcher, the action, the burst package and vendored wheels;
- cargo: the local Rust toolchain, offline, inside a generated action loop;
- docker: an OpenWhisk Rust runtime image's own `-compile`;
- prebuilt: a zip built elsewhere, checked;
- remote: Rust source that the cluster's runtime compiles.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from runner.build.cache import Artifact, BuildError
from runner.build.cargo import build_cargo
from runner.build.docker import build_docker
from runner.build.prebuilt import build_prebuilt
from runner.build.python import build_python
from runner.build.remote import build_remote
from runner.build.spec import PYTHON_KIND, ActionSpec, Runtime, resolve
from runner.config import BuildMethod, Lang

__all__ = ["ActionSpec", "Artifact", "BuildError", "build", "build_python_action", "resolve"]

BUILDERS: dict[BuildMethod, Callable[[ActionSpec, Path, Path], Artifact]] = {
    BuildMethod.python: build_python,
    BuildMethod.cargo: build_cargo,
    BuildMethod.docker: build_docker,
    BuildMethod.prebuilt: build_prebuilt,
    BuildMethod.remote: build_remote,
}


def build(spec: ActionSpec, cache_dir: Path, log: Path) -> Artifact:
    """The artifact for `spec`; tools' output is appended to `log`."""
    return BUILDERS[spec.method](spec, cache_dir, log)


def build_python_action(source: Path, function: str, cache_dir: Path,
                        include: list[Path] | None = None) -> Artifact:
    """A Python action zip for `source` without vendored requirements (so no tool, no log)."""
    spec = ActionSpec(Lang.python, BuildMethod.python, source, Runtime(PYTHON_KIND, function),
                      include=tuple(include or ()))
    return build_python(spec, cache_dir, Path(os.devnull))
