"""An action written for the burst fork builds unchanged and runs: the shape of
burst-validation's pagerank (fork Cargo.toml, middleware path two levels up), checked
against the same PageRank computed here; and a requirement Debian cannot meet is one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from runner.build import BuildError
from tests.rust.conftest import CRATES, backend, build_rust


def _pagerank(nodes: int, workers: int, iterations: int) -> np.ndarray:
    ranks = np.full(nodes, 1.0 / nodes)
    for _ in range(iterations):
        sums = np.zeros(nodes)
        for node in range(nodes):
            for k in (1, 2, 3):
                sums[(node * 7 + k) % nodes] += ranks[node] / 3
        ranks = sums
    return ranks


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_the_fork_shaped_pagerank_builds_unchanged_and_agrees(kind, burst_of, local_dir,
                                                              redis_uri):
    burst = burst_of("pagerank", 6, 4)  # 6 workers (not a power of two) in packs of 4 and 2
    params = [{"num_nodes": 50, "iterations": 5}] * 6
    envelopes = burst.run(params, backend(kind, local_dir, redis_uri), f"pr-{kind}")
    assert all(e["error"] is None for e in envelopes), envelopes
    expected = _pagerank(50, 6, 5)
    assert np.allclose(envelopes[0]["result"]["ranks"], expected, rtol=1e-12)
    errors = {e["result"]["error"] for e in envelopes}
    assert len(errors) == 1  # every worker got the root's error by broadcast


def test_a_version_debian_does_not_package_is_named_in_one_line(tmp_path: Path, cache_dir):
    crate = tmp_path / "ow-pr"
    shutil.copytree(CRATES["pagerank"], crate)
    manifest = crate / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace('bytes = "1.2"', 'bytes = "1.5.0"'))
    with pytest.raises(BuildError) as raised:
        build_rust(crate, cache_dir, tmp_path / "out")
    message = str(raised.value)
    assert "\n" not in message
    assert 'asks for bytes = "1.5.0", but only bytes 1.2.1 is available offline' in message


def test_a_crate_debian_does_not_package_is_named_in_one_line(tmp_path: Path, cache_dir):
    crate = tmp_path / "ow-pr"
    shutil.copytree(CRATES["pagerank"], crate)
    manifest = crate / "Cargo.toml"
    manifest.write_text(manifest.read_text() + 'aws-sdk-s3 = "1.14.0"\n')
    with pytest.raises(BuildError) as raised:
        build_rust(crate, cache_dir, tmp_path / "out")
    assert str(raised.value).startswith(
        'crate actions depends on aws-sdk-s3 = "1.14.0", which is not available offline')
