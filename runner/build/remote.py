"""Rust source sent to the cluster, whose Rust runtime compiles it when the action starts.

A crate that is only `Cargo.toml` and `src/lib.rs` goes as the text of
`lib.rs` (`binary: false`): the runtime supplies its own manifest with
serde, serde_json and serde_derive. Any other crate goes as a zip of its
sources (`binary: true`), manifest included, as `wsk action create` would send it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from runner.build.cache import Artifact, Fingerprint, cached, tree_files
from runner.build.spec import ActionSpec
from runner.build.zips import zip_files

SINGLE_FILE_CRATE = ["Cargo.toml", "src/lib.rs"]


def build_remote(spec: ActionSpec, cache_dir: Path, log: Path) -> Artifact:
    """The source to upload; nothing is compiled here."""
    files = tree_files(spec.source)
    single = [name for name, _ in files] == SINGLE_FILE_CRATE
    runtime = dataclasses.replace(spec.runtime, binary=not single)
    key = Fingerprint("remote").add("main", spec.runtime.main).add_files(files).key()

    def produce(target: Path) -> None:
        if single:
            target.write_bytes((spec.source / "src" / "lib.rs").read_bytes())
        else:
            target.write_bytes(zip_files(files))

    suffix = ".rs" if single else ".zip"
    return cached(cache_dir, "remote", key, suffix, runtime, produce)
