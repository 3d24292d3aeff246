"""pagerank: power iteration on a seeded power-law graph, checked against NumPy on the whole graph.

Each worker owns a range of source nodes (chosen so edge counts are even) and
reads only that range's bytes of the CSR arrays, which live in the run's
storage (ow_apps/storage.py). An iteration sums every partition's contribution
vector, then applies the damped update. Burst workers keep their edges in
memory and allreduce the contributions; map workers are stateless, so each
iteration is a map stage that exchanges ranks and contributions through the
storage under the run's scratch name and the driver sums and updates. The
final ranks go to `ranks.f64` under that name, removed once validated unless
`keep_output` is set. The Rust crates (`rust/` for map, `rust_burst/`,
`app.lang=rust`) take the same payloads and exchange the same objects, so the
driver and the check serve both languages.
"""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runner.apps import RunContext, Validation
from runner.config import AppConfig, ConfigError, Lang

from .. import storage

TOP_K = 5

if TYPE_CHECKING:
    import numpy as np

    from .graph import GraphFiles


@dataclass
class Params(AppConfig):
    include: list[str] = field(
        default_factory=lambda: ["powerstep.py", "../storage.py", "../phases.py"])
    memory: int = 512
    timeout_ms: int = 300_000
    nodes: int = 20_000
    edges: int = 200_000  # about 10 per node; in- and out-degrees follow a power law
    damping: float = 0.85
    tolerance: float = 1e-4  # stop once the L1 change of the ranks is below (~14 iterations)
    iterations: int = 30  # cap; each map-mode iteration is a stage of `workers` activations
    seed: int = 42  # graph generator seed
    keep_output: bool = False  # keep runs/<id>/ranks.f64 after validation


def graph_names(params: Params) -> tuple[str, str]:
    """Where the CSR arrays (offsets, targets) are under the storage root."""
    stem = f"pagerank/graph-n{params.nodes}-e{params.edges}-s{params.seed}"
    return f"{stem}.offsets", f"{stem}.targets"


def dataset(params: Params, root: storage.Location) -> GraphFiles:
    """The graph's CSR arrays, generated once per (nodes, edges, seed)."""
    from .graph import GraphFiles, generate

    files = GraphFiles(*(storage.join(root, name) for name in graph_names(params)))
    if not files.complete(params.nodes, params.edges):
        generate(files, params.nodes, params.edges, params.seed)
    return files


def node_ranges(offsets: np.ndarray, workers: int) -> list[tuple[int, int]]:
    """Consecutive source ranges holding about the same number of edges each."""
    import numpy as np

    edges = int(offsets[-1])
    cuts = [0, *(int(np.searchsorted(offsets, edges * w // workers)) for w in range(1, workers)),
            len(offsets) - 1]
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _check(params: Params) -> None:
    if params.nodes < 1 or params.edges < 0 or params.iterations < 1:
        raise ConfigError("app.nodes and app.iterations must be >= 1, app.edges >= 0")
    if not 0.0 <= params.damping < 1.0:
        raise ConfigError(f"app.damping={params.damping}: must be in [0, 1)")


def payloads(params: Params, ctx: RunContext) -> list[dict[str, Any]]:
    """One source range per worker, and a fresh scratch name for the ranks."""
    import numpy as np

    _check(params)
    root = storage.root(ctx.storage, ctx.data_dir)
    files = dataset(params, root)
    offsets_name, targets_name = graph_names(params)
    scratch = f"pagerank/runs/{ctx.mode}-w{ctx.workers}-{uuid.uuid4().hex[:12]}"
    common = {"storage": root, "offsets": offsets_name, "targets": targets_name,
              "nodes": params.nodes, "damping": params.damping,
              "tolerance": params.tolerance, "iterations": params.iterations,
              "ranks_out": f"{scratch}/ranks.f64"}
    offsets = np.frombuffer(storage.read(files.offsets), dtype=np.int64)
    return [{**common, "first_node": first, "last_node": last,
             **_urls(params, root, graph_names(params), [common["ranks_out"]] if w == 0 else [])}
            for w, (first, last) in enumerate(node_ranges(offsets, ctx.workers))]


def _urls(params: Params, root: storage.Location, reads: Iterable[str],
          writes: Iterable[str]) -> dict[str, Any]:
    """A Rust worker's presigned URLs on S3 (a burst's worker 0 writes the ranks); Python
    workers use boto3 themselves."""
    return storage.presigned(root, reads, writes) if params.lang == Lang.rust else {}


def _map_iterations(params: Params, work: list[dict[str, Any]], executor: Any) -> int | None:
    """The driver's loop: one map stage per iteration. Returns the iteration count, or None."""
    import numpy as np

    from .powerstep import step

    root = work[0]["storage"]
    scratch = posixpath.dirname(work[0]["ranks_out"])
    ranks = np.full(params.nodes, 1.0 / params.nodes)
    for iteration in range(params.iterations):
        exchange = f"{scratch}/iteration-{iteration}"  # this iteration's ranks and contributions
        storage.write(storage.join(root, exchange, "ranks.f64"), ranks.data)
        stage = [{**w, "ranks_in": f"{exchange}/ranks.f64",
                  "contrib_out": f"{exchange}/contrib-{worker}.f64"}
                 for worker, w in enumerate(work)]
        for item in stage:  # this stage's objects, beside the graph's
            urls = _urls(params, root, [item["ranks_in"]], [item["contrib_out"]])
            if urls:
                item["presigned"] = {**item["presigned"], **urls["presigned"]}
        if not all(o.ok for o in executor.map(stage, stage=f"iteration-{iteration}")):
            return None
        total = sum(np.frombuffer(storage.read(storage.join(root, w["contrib_out"])))
                    for w in stage)
        ranks, error = step(ranks, total, params.damping)
        storage.remove_tree(storage.join(root, exchange))
        if error < params.tolerance:
            break
    storage.write(storage.join(root, work[0]["ranks_out"]), ranks.data)
    return iteration + 1


def run(params: Params, ctx: RunContext, executor: Any) -> dict[str, Any]:
    """Burst: one stage iterates to the end. Map: the driver runs one stage per iteration."""
    work = payloads(params, ctx)
    answer: dict[str, Any] = {"ranks": work[0]["ranks_out"], "iterations": None}
    if ctx.mode == "map":
        return {**answer, "iterations": _map_iterations(params, work, executor)}
    outcomes = executor.burst(work)
    root = outcomes[0].result if outcomes and outcomes[0].worker_id == 0 else None
    if all(o.ok for o in outcomes) and root is not None:
        answer["iterations"] = root["iterations"]
    return answer


def reference(params: Params, root: storage.Location) -> tuple[np.ndarray, int]:
    """The same power iteration on the whole graph in one process: ranks and iteration count."""
    import numpy as np

    from .powerstep import contributions, read_partition, step

    files = dataset(params, root)
    degrees, targets = read_partition(storage.read_range, files.offsets, files.targets, 0,
                                      params.nodes)
    ranks = np.full(params.nodes, 1.0 / params.nodes)
    iterations = 0
    while iterations < params.iterations:
        ranks, error = step(ranks, contributions(degrees, targets, ranks, 0), params.damping)
        iterations += 1
        if error < params.tolerance:
            break
    return ranks, iterations


def _compare(params: Params, root: storage.Location, answer: dict[str, Any]) -> Validation:
    import numpy as np
    ranks = storage.join(root, answer["ranks"])
    if answer["iterations"] is None or not storage.exists(ranks):
        return Validation(False, "no final ranks: a stage failed")
    expected, iterations = reference(params, root)
    got = np.frombuffer(storage.read(ranks))
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-9, atol=1e-15):
        error = np.abs(got - expected).max() if got.shape == expected.shape else "shape"
        return Validation(False, f"ranks differ from NumPy's power iteration (max error {error})")
    if answer["iterations"] != iterations:
        return Validation(False, f"{answer['iterations']} iterations, NumPy needed {iterations}")
    top = np.argsort(-got, kind="stable")[:TOP_K]
    leaders = ", ".join(f"{node}: {got[node]:.3g}" for node in top)
    return Validation(True, f"ranks match NumPy after {iterations} iterations; top {leaders}")


def validate(params: Params, ctx: RunContext, answer: dict[str, Any]) -> Validation:
    root = storage.root(ctx.storage, ctx.data_dir)
    verdict = _compare(params, root, answer)
    if not params.keep_output:
        storage.remove_tree(storage.join(root, posixpath.dirname(answer["ranks"])))
    return verdict
