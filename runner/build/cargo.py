"""Rust actions built by the local toolchain: a generated action-loop crate around the user's.

The generated crate depends on the user's crate (as `action`) and on
serde_json, and is compiled with `cargo build --release --offline` against
Debian's packaged crates (`/usr/share/cargo/registry`) through source
replacement in the generated crate's own `.cargo/config.toml`; cargo's home and
target directories live in the build cache, so `~/.cargo` is never touched and
dependencies compile once per cache. The binary becomes the zip's `exec`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from runner.build import tools
from runner.build.cache import Artifact, BuildError, Fingerprint, cached, tree_files
from runner.build.rust_loop import main_rs
from runner.build.spec import ActionSpec
from runner.build.zips import write_action_zip

DEBIAN_REGISTRY = Path("/usr/share/cargo/registry")
DEBIAN_CRATES = "librust-serde-json-dev librust-serde-derive-dev"
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
action = {{ path = {crate}, package = {package} }}

# A crate of its own, even when the cache lies inside someone's workspace.
[workspace]
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
                   .add_files(files))

    def produce(target: Path) -> None:
        write_action_zip(target, _compile(cargo, spec, cache_dir / "cargo", log), [])

    return cached(cache_dir, "cargo", fingerprint.key(), ".zip", spec.runtime, produce)


def _compile(cargo: str, spec: ActionSpec, work: Path, log: Path) -> bytes:
    """Generates the action-loop crate, builds it and returns the binary's bytes.

    The binary is named after the generated crate's directory, so concurrent
    builds sharing the target directory never take each other's output.
    """
    if not DEBIAN_REGISTRY.is_dir():
        raise BuildError(
            f"app.build=cargo builds offline against Debian's Rust crates in {DEBIAN_REGISTRY}, "
            f"which are missing: run `make services` as root (or apt-get install {DEBIAN_CRATES})"
        )
    env = {**os.environ, "CARGO_HOME": str(work / "home"), "CARGO_TARGET_DIR": str(work / "target"),
           "CARGO_TERM_COLOR": "never"}
    package = _package_name(cargo, spec.source, env, log)
    work.mkdir(parents=True, exist_ok=True)
    crate = Path(tempfile.mkdtemp(dir=work, prefix="crate-"))
    binary = work / "target" / "release" / f"exec-{crate.name}"
    try:
        (crate / "src").mkdir()
        (crate / ".cargo").mkdir()
        (crate / "src" / "main.rs").write_text(main_rs(spec.runtime.main))
        (crate / "Cargo.toml").write_text(MANIFEST.format(
            binary=binary.name, crate=json.dumps(str(spec.source.resolve())),
            package=json.dumps(package)))
        (crate / ".cargo" / "config.toml").write_text(
            SOURCE_REPLACEMENT.format(registry=json.dumps(str(DEBIAN_REGISTRY))))
        tools.run([cargo, "build", "--release", "--offline"],
                        f"cargo build of {spec.source}", log, cwd=crate, env=env)
        return binary.read_bytes()
    finally:
        shutil.rmtree(crate, ignore_errors=True)
        for output in (binary, binary.with_suffix(".d")):
            output.unlink(missing_ok=True)


def _package_name(cargo: str, source: Path, env: dict[str, str], log: Path) -> str:
    """The crate's package name, after checking it has a library for the loop to call."""
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
    return package["name"]
