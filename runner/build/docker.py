"""Rust actions compiled inside an OpenWhisk Rust runtime image, by the image's own compiler.

Equivalent to `zip -r - * | docker run -i IMAGE -debug -compile MAIN > action.zip`
in the crate: the action-loop proxy of the image reads the source zip on stdin
and writes the compiled action zip on stdout. The image decides the action
loop, so a burst runtime image gives actions that use its burst middleware.
"""

from __future__ import annotations

from pathlib import Path

from runner.build import tools
from runner.build.cache import Artifact, Fingerprint, cached, tree_files
from runner.build.spec import ActionSpec
from runner.build.zips import require_exec, zip_files

NO_DOCKER = ("install Docker, build with the local Rust toolchain (app.build=cargo), or let the "
             "cluster compile the source (app.build=remote)")


def build_docker(spec: ActionSpec, cache_dir: Path, log: Path) -> Artifact:
    """The zip the image compiles from the crate `spec.source`, unless one is cached."""
    docker = tools.find("docker", "docker", NO_DOCKER)
    image = spec.compile_image
    assert image is not None, "resolve() sets the compile image of the docker method"
    files = tree_files(spec.source)
    key = (Fingerprint("docker").add("image", image).add("main", spec.runtime.main)
           .add_files(files).key())

    def produce(target: Path) -> None:
        command = [docker, "run", "--rm", "-i", image, "-debug", "-compile", spec.runtime.main]
        target.write_bytes(tools.run(command, f"docker run {image} -compile", log,
                                           stdin=zip_files(files)))
        require_exec(target, f"the output of {image} -compile (see {log})")

    return cached(cache_dir, "docker", key, ".zip", spec.runtime, produce)
