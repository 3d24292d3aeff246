"""Rust actions built by the local toolchain: a generated action-loop crate around the user's.

The generated crate depends on the user's crate (as `action`), on serde_json,
bytes and this project's `burst-communication-middleware` crate (shipped in
`crates/`), and is compiled with `cargo build --release --offline` against
Debian's packaged crates (`/usr/share/cargo/registry`) through source
replacement in a `.cargo/config.toml` of the build directory; cargo's home and
target directories live in the build cache, so `~/.cargo` is never touched and
dependencies compile once per cache. The binary becomes the zip's `exec`.

A crate written for the burst fork declares the middleware as a path dependency
next to itself (`{ path = "../burst-communication-middleware" }`, where the
fork's build puts it). So that such a `Cargo.toml` builds unchanged, the user's
crate is copied into the build directory and the middleware is placed at the
path it names; a registry requirement for it is patched to the same crate.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from runner.build import offline_crates, tools
from runner.build.cache import Artifact, BuildError, Fingerprint, cached, tree_files
from runner.build.rust_loop import main_rs
from runner.build.spec import ActionSpec
from runner.build.zips import write_action_zip

DEBIAN_REGISTRY = Path("/usr/share/cargo/registry")
DEBIAN_CRATES = ("librust-serde-json-dev librust-serde-derive-dev librust-bytes-dev "
                 "librust-libc-dev librust-ureq-dev")
MIDDLEWARE = "burst-communication-middleware"
MIDDLEWARE_CRATE = Path(__file__).resolve().parent / "crates" / "burst_communication_middleware"
NO_CARGO = ("install Rust (rustup.rs or Debian's `cargo`), or build inside an OpenWhisk Rust "
            "image with app.build=docker")

MANIFEST = """[package]
name = "burst-runner-action"
version = "0.1.0"
edition = "2021"
publish = false

[[bin]]
name = "{binary}"
path = "src/main.rs"

[dependencies]
serde_json = "1.0"
bytes = "1.2"
burst-communication-middleware = {{ path = {middleware} }}
action = {{ path = {crate}, package = {package} }}

# A crate of its own, even when the cache lies inside someone's workspace.
[workspace]
{patch}"""

PATCH = """
[patch.crates-io]
burst-communication-middleware = {{ path = {middleware} }}
"""

SOURCE_REPLACEMENT = """[source.crates-io]
replace-with = "debian"

[source.debian]
directory = {registry}
"""


def build_cargo(spec: ActionSpec, cache_dir: Path, log: Path) -> Artifact:
    """The zip for the crate `spec.source`, compiled only when no identical one is cached."""
    cargo = tools.find("cargo", "cargo", NO_CARGO)
    rustc = tools.find("rustc", "cargo", NO_CARGO)
    toolchain = tools.run([rustc, "--version"], "rustc --version", log).decode().strip()
    files = tree_files(spec.source)
    fingerprint = (Fingerprint("cargo").add("toolchain", toolchain)
                   .add("main", spec.runtime.main).add("loop", main_rs(spec.runtime.main))
                   .add_files(files)
                   .add_files([(f"{MIDDLEWARE}/{name}", path)
                               for name, path in tree_files(MIDDLEWARE_CRATE)]))

    def produce(target: Path) -> None:
        write_action_zip(target, _compile(cargo, spec, cache_dir / "cargo", log), [])

    return cached(cache_dir, "cargo", fingerprint.key(), ".zip", spec.runtime, produce)


def _compile(cargo: str, spec: ActionSpec, work: Path, log: Path) -> bytes:
    """Generates the action-loop crate, builds it and returns the binary's bytes.

    The binary is named after the build directory, so concurrent builds sharing
    the target directory never take each other's output.
    """
    if not DEBIAN_REGISTRY.is_dir():
        raise BuildError(
            f"app.build=cargo builds offline against Debian's Rust crates in {DEBIAN_REGISTRY}, "
            f"which are missing: run `make services` as root (or apt-get install {DEBIAN_CRATES})"
        )
    env = {**os.environ, "CARGO_HOME": str(work / "home"), "CARGO_TARGET_DIR": str(work / "target"),
           "CARGO_TERM_COLOR": "never"}
    package = _package(cargo, spec.source, env, log)
    offline_crates.check(DEBIAN_REGISTRY, package["name"], package["dependencies"])
    work.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(dir=work, prefix="crate-"))
    binary = work / "target" / "release" / f"exec-{build.name}"
    try:
        crate, middleware_dir, patch = _stage(spec.source, package, build)
        loop = build / "loop"
        (loop / "src").mkdir(parents=True)
        (build / ".cargo").mkdir()
        (loop / "src" / "main.rs").write_text(main_rs(spec.runtime.main))
        middleware = json.dumps(str(middleware_dir))
        (loop / "Cargo.toml").write_text(MANIFEST.format(
            binary=binary.name, crate=json.dumps(str(crate)), package=json.dumps(package["name"]),
            middleware=middleware, patch=PATCH.format(middleware=middleware) if patch else ""))
        (build / ".cargo" / "config.toml").write_text(
            SOURCE_REPLACEMENT.format(registry=json.dumps(str(DEBIAN_REGISTRY))))
        tools.run([cargo, "build", "--release", "--offline"],
                  f"cargo build of {spec.source}", log, cwd=loop, env=env)
        return binary.read_bytes()
    finally:
        shutil.rmtree(build, ignore_errors=True)
        for output in (binary, binary.with_suffix(".d")):
            output.unlink(missing_ok=True)


def _stage(source: Path, package: dict, build: Path) -> tuple[Path, Path, bool]:
    """Where the user's crate and the middleware are built from, and whether the loop must
    patch the registry (the crate asks for the middleware by version).

    A path dependency on the middleware is honoured where it points: the crate is
    copied into `build`, deep enough that the path stays inside it, and the
    middleware's sources are copied there, for the loop to use the same copy.
    Other crates build in place.
    """
    middleware = [dep for dep in package["dependencies"] if dep["name"] == MIDDLEWARE]
    paths = [dep["path"] for dep in middleware if dep.get("path")]
    if not paths:
        return source.resolve(), MIDDLEWARE_CRATE, bool(middleware)
    relative = Path(os.path.relpath(paths[0], source.resolve()))
    ups = len([part for part in relative.parts if part == ".."])
    crate = build.joinpath("user", *["up"] * ups, "crate")
    for name, path in tree_files(source):
        (crate / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, crate / name)
    target = Path(os.path.normpath(crate / relative))
    if build not in target.parents or crate == target or crate in target.parents:
        raise BuildError(f"{source}: the path of its {MIDDLEWARE} dependency ({relative}) "
                         "must lead outside the crate, as ../burst-communication-middleware does")
    shutil.copytree(MIDDLEWARE_CRATE, target, ignore=shutil.ignore_patterns("target", "Cargo.lock"))
    return crate, target, False


def _package(cargo: str, source: Path, env: dict[str, str], log: Path) -> dict:
    """The crate's `cargo metadata` record, after checking it has a library for the loop to call."""
    metadata = json.loads(tools.run(
        [cargo, "metadata", "--no-deps", "--format-version", "1", "--offline",
         "--manifest-path", str(source / "Cargo.toml")],
        f"cargo metadata of {source}", log, env=env,
    ))
    manifest = (source / "Cargo.toml").resolve()
    packages = [p for p in metadata["packages"] if Path(p["manifest_path"]).resolve() == manifest]
    if not packages:
        raise BuildError(f"{manifest} defines no package (a workspace alone cannot be an action)")
    package = packages[0]
    if not any("lib" in target["kind"] or "rlib" in target["kind"]
               for target in package["targets"]):
        raise BuildError(f"crate {package['name']} in {source} has no library (src/lib.rs)")
    return package
