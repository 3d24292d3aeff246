"""The embedded platform and the Python middleware stand alone: they import no other runner part.

The middleware ships inside action zips as the top-level package `burst`, and
the platform is usable by any OpenWhisk client, so neither may depend on the
runner around them. The one edge allowed is the platform reading the burst
backend catalog (plain data), so that both accept the same backends.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parent.parent / "runner"
ALLOWED = {"platform": {"runner.burst.catalog"}, "burst": set()}


def _imports(path: Path, root: Path = RUNNER) -> list[tuple[int, str]]:
    """(line, module) of every import in a module of the `runner` package at root."""
    tree = ast.parse(path.read_text(), str(path))
    parts = ["runner", *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    else:
        parts.pop()  # the module itself: relative imports start at its package
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[:len(parts) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            # `from a.b import c` may import the module a.b.c or a name of a.b: count it as a.b.c
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_nothing_of_the_runner_outside_itself(package):
    own = f"runner.{package}"
    strays = []
    for path in sorted((RUNNER / package).rglob("*.py")):
        for line, module in _imports(path):
            inside = module == own or module.startswith(own + ".")
            if module.split(".")[0] == "runner" and not inside and module not in ALLOWED[package]:
                strays.append(f"{path.relative_to(RUNNER.parent)}:{line} imports {module}")
    assert not strays, "\n".join(strays)


def test_the_check_sees_relative_and_absolute_imports(tmp_path):
    """The checker itself: a stray import in either spelling is found and resolved."""
    module = tmp_path / "runner" / "burst" / "backends" / "probe.py"
    module.parent.mkdir(parents=True)
    module.write_text("from ...config import schema\nfrom .. import spec\n"
                      "import runner.pipeline.experiment\n")
    found = [name for _, name in _imports(module, tmp_path / "runner")]
    assert found == ["runner.config.schema", "runner.burst.spec", "runner.pipeline.experiment"]
