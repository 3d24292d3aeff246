"""Which versions of a crate the offline registry (Debian's packaged crates) can give.

Cargo's own message for a requirement the registry cannot meet is several lines about
candidate versions; checking the crate's registry dependencies first turns it into one
line that says which version is available, so the user knows what to write instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from runner.build.cache import BuildError

CARET = re.compile(r"^\^?(\d+)(?:\.(\d+))?(?:\.(\d+))?$")
Version = tuple[int, int, int]


def available(registry: Path, name: str) -> list[Version]:
    """The versions of crate `name` in `registry` (directories `<name>-<x.y.z>`), sorted."""
    found = []
    for entry in registry.glob(f"{name}-*"):
        match = re.fullmatch(rf"{re.escape(name)}-(\d+)\.(\d+)\.(\d+)", entry.name)
        if match:
            found.append((int(match[1]), int(match[2]), int(match[3])))
    return sorted(found)


def _caret_allows(req: tuple[int, int | None, int | None], version: Version) -> bool:
    """Cargo's default ("caret") requirement: same leftmost non-zero part, not older."""
    major, minor, patch = req
    wanted = (major, minor or 0, patch or 0)
    if version < wanted:
        return False
    if major > 0 or minor is None:
        return version[0] == major
    if minor > 0 or patch is None:
        return version[:2] == (major, minor)
    return version == wanted


def check(registry: Path, crate: str, dependencies: list[dict]) -> None:
    """Raise one BuildError line for the first registry dependency the registry cannot meet.

    `dependencies` are `cargo metadata` records; requirements other than plain caret ones
    (`>=`, `~`, ranges) are left for cargo to judge.
    """
    for dep in dependencies:
        if dep.get("path") or dep.get("kind") == "dev" or dep.get("source") is None:
            continue
        name, req = dep["name"], dep["req"]
        versions = available(registry, name)
        if not versions:
            raise BuildError(
                f"crate {crate} depends on {name} = \"{req.lstrip('^')}\", which is not available "
                "offline "
                f"(Debian packages no {name} crate in {registry})"
            )
        match = CARET.match(req.strip())
        if match is None:
            continue
        parsed = (int(match[1]), int(match[2]) if match[2] else None,
                  int(match[3]) if match[3] else None)
        if not any(_caret_allows(parsed, v) for v in versions):
            newest = ".".join(map(str, versions[-1]))
            raise BuildError(
                f"crate {crate} asks for {name} = \"{req.lstrip('^')}\", but only {name} "
                f"{newest} is available offline (Debian's packaged crates in {registry}): "
                f"ask for {name} = \"{'.'.join(map(str, versions[-1][:2]))}\""
            )
