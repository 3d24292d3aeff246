"""``python -m mutants``: mutate each module of modules.toml, run its tests, print the scores.

    python -m mutants                         # every module (what `make mutants` runs)
    python -m mutants --only polling,summary  # some of them
    python -m mutants --jobs 1                # one module at a time (default: 2 at once)
    python -m mutants --report DIR            # score an earlier run again, e.g. after
                                              # judging a survivor in equivalent.toml

Each module is mutated in its own copy of the project (cosmic-ray writes every mutant
into the file it tests, then restores it), so the work tree is never touched and two
modules can run at once. The tests run against the copy, subprocesses included: the
CLI, the embedded platform and the burst workers all import the mutated module.
Results go to ``outputs/mutants/<timestamp>/``: each module's cosmic-ray session
(``<module>.sqlite``), its log, ``scores.csv`` and ``survivors.txt`` (the diff of each
survivor not judged equivalent). The exit code is 1 when a module is under the goal, 2
when a module could not be run (its tests failing unmutated, say).
"""

from __future__ import annotations

import argparse
import ast
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: cosmic-ray brings `toml`
    import toml as tomllib  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
MODULES = HERE / "modules.toml"
EQUIVALENT = HERE / "equivalent.toml"
BIN = Path(sys.executable).parent


def _load(path: Path) -> dict[str, Any]:
    """A TOML file as a dict, with tomllib or, on Python 3.10, the `toml` package."""
    if tomllib.__name__ == "tomllib":
        with path.open("rb") as file:
            return tomllib.load(file)
    return tomllib.loads(path.read_text())


def copy_project(into: Path) -> None:
    """The project's files (tracked and new, not ignored) as they are now, without .venv."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = PROJECT / name
        if source.is_file():  # a tracked file deleted in the work tree is left out
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _cosmic_ray_config(module: dict[str, Any], scratch: Path, settings: dict[str, Any]) -> str:
    """cosmic-ray's config for one module: its tests, stopping at the first failure."""
    pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
              f"--basetemp={scratch / 'pytest'}", *settings.get("pytest-args", []),
              *module.get("pytest-args", []), *module["tests"]]
    excluded = ", ".join(f'"{pattern}"' for pattern in settings.get("exclude-operators", []))
    return (
        "[cosmic-ray]\n"
        f'module-path = "{module["path"]}"\n'
        f"timeout = {float(module['timeout'])}\n"
        "excluded-modules = []\n"
        f"test-command = '{' '.join(pytest)}'\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = [{excluded}]\n"
    )


def run_module(name: str, module: dict[str, Any], settings: dict[str, Any], out: Path,
               scratch_root: Path) -> float:
    """Mutates one module in a fresh copy of the project; returns the seconds it took."""
    started = time.monotonic()
    scratch = scratch_root / name
    tree = scratch / "tree"
    copy_project(tree)
    # Compiled once, checked by hash: each test process imports the copy's modules without
    # compiling them, and never a stale .pyc of the mutated one (see PYTHONDONTWRITEBYTECODE).
    # A file that does not compile (test data, say) only costs its compilation later.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "--invalidation-mode",
                    "checked-hash", "runner", "ow_apps", "tests"], cwd=tree,
                   stdout=subprocess.DEVNULL)
    # the module as mutated, for the score to find its annotations (see `annotation_spans`)
    shutil.copy2(tree / module["path"], out / f"{name}.py")
    config = out / f"{name}.toml"
    config.write_text(_cosmic_ray_config(module, scratch, settings))
    session = out / f"{name}.sqlite"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        # the copy, not the editable install, for the tests and every process they start
        "PYTHONPATH": str(tree),
        # a mutant of the same size written within the same second must not reuse a .pyc
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    steps = [
        ["cosmic-ray", "init", str(config), str(session)],
        ["cr-filter-operators", str(session), str(config)],
        ["cosmic-ray", "baseline", str(config)],
        ["cosmic-ray", "exec", str(config), str(session)],
    ]
    with (out / f"{name}.log").open("w") as log:
        for step in steps:
            log.write(f"$ {' '.join(step)}\n")
            log.flush()
            done = subprocess.run([str(BIN / step[0]), *step[1:]], cwd=tree, env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
            if done.returncode != 0:
                raise RuntimeError(f"{name}: `{' '.join(step[:2])}` failed "
                                   f"(exit {done.returncode}); see {out / f'{name}.log'}")
    shutil.rmtree(scratch, ignore_errors=True)
    return time.monotonic() - started


def changed_lines(diff: str) -> tuple[str, str]:
    """The original and the mutated text of a mutant's diff, each stripped and joined.

    This, not a line number or cosmic-ray's occurrence count, names a survivor in
    equivalent.toml, so that editing other parts of the module keeps its judgement.
    """
    removed = [line[1:].strip() for line in diff.splitlines()
               if line.startswith("-") and not line.startswith("---")]
    added = [line[1:].strip() for line in diff.splitlines()
             if line.startswith("+") and not line.startswith("+++")]
    return " ".join(removed), " ".join(added)


ANNOTATION = ("inside an annotation: the module has `from __future__ import annotations`, "
              "so annotations stay text that is never evaluated")


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where a module's annotations are, as ((line, column), (end line, end column)).

    Empty unless the module postpones their evaluation (PEP 563): only then can no
    mutant inside one change what the program does. cosmic-ray mutates them like any
    other expression (`int | None` into `int + None`), so the score sets them aside.
    """
    tree = ast.parse(source)
    postponed = any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
                    and any(alias.name == "annotations" for alias in node.names)
                    for node in tree.body)
    if not postponed:
        return []
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
            found.append(node.returns)
        elif isinstance(node, ast.arg) and node.annotation:
            found.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
    return [((a.lineno, a.col_offset), (a.end_lineno or a.lineno, a.end_col_offset or 0))
            for a in found]


def _inside(position: tuple[int, int],
            spans: list[tuple[tuple[int, int], tuple[int, int]]]) -> bool:
    return any(start <= tuple(position) < end for start, end in spans)


@dataclass
class Score:
    """One module's outcome; the percentage counts only the non-equivalent mutants."""

    module: str
    killed: int = 0
    timeout: int = 0
    survived: int = 0
    equivalent: int = 0
    annotations: int = 0  # of the equivalent: inside an annotation (ANNOTATION)
    errors: int = 0  # cosmic-ray could not run the mutant
    pending: int = 0  # not run (an interrupted session)
    survivors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.killed + self.timeout + self.survived + self.equivalent + self.errors

    @property
    def percent(self) -> float:
        counted = self.killed + self.timeout + self.survived
        return 100.0 * (self.killed + self.timeout) / counted if counted else 100.0


def load_equivalents() -> dict[tuple[str, str, str], str]:
    """(module, original, mutant) to the reason the mutant cannot be told apart."""
    entries = _load(EQUIVALENT).get("equivalent", []) if EQUIVALENT.is_file() else []
    return {(e["module"], e["original"].strip(), e["mutant"].strip()): e["why"]
            for e in entries}


def score(name: str, session: Path, source: Path,
          equivalents: dict[tuple[str, str, str], str], used: set[tuple[str, str, str]]) -> Score:
    """Counts a module's session; `used` collects the equivalents that matched a survivor.

    `source` is the module as it was mutated (mutation positions point into it).
    """
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    result = Score(name)
    spans = annotation_spans(source.read_text())
    with use_db(str(session), WorkDB.Mode.open) as db:
        result.pending = sum(1 for _ in db.pending_work_items)
        for item, outcome in db.completed_work_items:
            if outcome.worker_outcome == WorkerOutcome.SKIPPED:
                continue  # an excluded operator (modules.toml)
            if outcome.worker_outcome != WorkerOutcome.NORMAL:
                result.errors += 1
            elif outcome.test_outcome == TestOutcome.SURVIVED:
                key = (name, *changed_lines(outcome.diff or ""))
                if _inside(item.mutations[0].start_pos, spans):
                    result.equivalent += 1
                    result.annotations += 1
                elif key in equivalents:
                    result.equivalent += 1
                    used.add(key)
                else:
                    result.survived += 1
                    mutation = item.mutations[0]
                    result.survivors.append(
                        f"## {name} line {mutation.start_pos[0]} "
                        f"{mutation.operator_name}\n{outcome.diff}")
            elif outcome.test_outcome == TestOutcome.INCOMPETENT:
                result.errors += 1
            elif outcome.output == "timeout":
                result.timeout += 1
            else:
                result.killed += 1
    return result


def report(out: Path, modules: dict[str, dict[str, Any]], names: list[str], goal: float,
           seconds: dict[str, float]) -> int:
    """Prints and saves the score table; returns the exit code."""
    equivalents = load_equivalents()
    used: set[tuple[str, str, str]] = set()
    scores = []
    for name in names:
        source = out / f"{name}.py"  # saved by run_module; else the module as it is now
        scores.append(score(name, out / f"{name}.sqlite",
                            source if source.is_file() else PROJECT / modules[name]["path"],
                            equivalents, used))
    columns = ["module", "killed", "survived", "timeout", "equivalent", "errors", "total",
               "score_%", "seconds"]
    rows = [[s.module, s.killed, s.survived, s.timeout, s.equivalent, s.errors, s.total,
             f"{s.percent:.1f}", f"{seconds[s.module]:.0f}" if s.module in seconds else ""]
            for s in scores]
    with (out / "scores.csv").open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows(rows)
    (out / "survivors.txt").write_text("\n".join(text for s in scores for text in s.survivors))
    widths = [max(len(str(cell)) for cell in column) for column in zip(columns, *rows, strict=True)]
    for line in [columns, *rows]:
        print("  ".join(str(cell).rjust(width) for cell, width in zip(line, widths, strict=True)))
    print(f"score_%: killed and timed-out among the mutants not judged equivalent "
          f"(goal {goal:g} % per module)")
    print(f"equivalent: judged so in {EQUIVALENT.relative_to(PROJECT)}, or {ANNOTATION} "
          f"({sum(s.annotations for s in scores)} of them)")
    for s in scores:
        if s.pending:
            print(f"{s.module}: {s.pending} mutants not run (interrupted?)")
    stale = [key for key in equivalents if key[0] in names and key not in used]
    for module, original, mutant in stale:
        print(f"equivalent.toml: no survivor matches ({module}) {original!r} -> {mutant!r}")
    survived = sum(s.survived for s in scores)
    if survived:
        print(f"{survived} survivors not judged equivalent: {out / 'survivors.txt'}")
    return 1 if any(s.percent < goal for s in scores) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutants", description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated module names of modules.toml")
    parser.add_argument("--jobs", type=int, default=2, help="modules mutated at once")
    parser.add_argument("--report", type=Path, help="score the sessions of an earlier run")
    args = parser.parse_args(argv)
    settings = _load(MODULES)
    modules: dict[str, dict[str, Any]] = settings["modules"]
    names = list(modules) if not args.only else args.only.split(",")
    unknown = [name for name in names if name not in modules]
    if unknown:
        parser.error(f"unknown module {','.join(unknown)}; choose from {', '.join(modules)}")
    if args.report:
        names = [name for name in names if (args.report / f"{name}.sqlite").is_file()]
        return report(args.report, modules, names, settings["goal"], {})
    out = PROJECT / "outputs" / "mutants" / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    out.mkdir(parents=True)
    print(f"mutating {', '.join(names)} into {out}", flush=True)
    seconds: dict[str, float] = {}
    started = time.monotonic()
    # Short paths: some tests open Unix sockets under their temporary directories.
    with tempfile.TemporaryDirectory(prefix="mutants-", dir="/tmp") as scratch, \
            ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = {name: pool.submit(run_module, name, modules[name], settings, out,
                                     Path(scratch))
                   for name in names}
        failed = False
        for name, future in futures.items():
            try:
                seconds[name] = future.result()
                print(f"{name}: done in {seconds[name]:.0f} s", flush=True)
            except RuntimeError as error:
                print(error, flush=True)
                failed = True
    print(f"all modules in {time.monotonic() - started:.0f} s")
    code = report(out, modules, [name for name in names if name in seconds], settings["goal"],
                  seconds)
    return 2 if failed else code


if __name__ == "__main__":
    sys.exit(main())
