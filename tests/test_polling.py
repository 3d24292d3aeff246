"""Waiting for activations: few requests, nothing missed, whatever the order or the clocks.

The request count is checked against the embedded platform over real HTTP. A
small fake controller stands in where the embedded platform cannot misbehave:
a clock far behind ours, and thousands of activations ending out of start order.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

from runner import build
from runner.apps.catalog import app_file
from runner.client.openwhisk import BurstOptions, OpenWhiskClient
from runner.pipeline import experiment
from runner.pipeline.executor import Executor
from runner.rundir.recorder import Recorder
from tests.helpers.json_server import JsonHandler, serve, wrong_request

BASELINE_PERIOD_MS = 2000
AUTH = "u:k"


def run_map(client: OpenWhiskClient, action: str, payloads: list[dict], run_dir: Path,
            concurrency: int = 64) -> tuple[list, pd.DataFrame, int]:
    """Executor.map as the runner calls it; returns outcomes, activations.csv, requests sent."""
    run_dir.mkdir(parents=True, exist_ok=True)
    recorder = Recorder(run_dir)
    executor = Executor(client, action, recorder, concurrency=concurrency, timeout_s=120,
                        mode="map", burst_options=BurstOptions())
    before = client.requests_sent
    try:
        outcomes = executor.map(payloads)
    finally:
        recorder.close()
    return outcomes, pd.read_csv(run_dir / "activations.csv"), client.requests_sent - before


def per_activation_polling_requests(activations: pd.DataFrame) -> int:
    """GETs of a client that, once all are invoked, GETs each unfinished one every 2 s.

    Each activation costs one GET per round that starts before it ends, plus the
    round that finds it ended.
    """
    first_round = activations["accepted_ms"].max()
    rounds_before_end = (activations["end_ms"] - first_round) // BASELINE_PERIOD_MS + 1
    return int(rounds_before_end.clip(lower=0).sum() + len(activations))


def test_a_thousand_activations_cost_fifty_times_fewer_requests_than_polling_each(
        standalone_platform, tmp_path):
    client = OpenWhiskClient(standalone_platform["APIHOST"], standalone_platform["AUTH"],
                             pool_size=65)
    artifact = build.build_python_action(app_file("sleep", "action.py"), "main", tmp_path / "b")
    experiment._deploy(client, "sleep", artifact, 128, 60_000, fresh=False)
    payloads = [{"sleep_ms": 1000} for _ in range(1000)]

    outcomes, activations, requests = run_map(client, "sleep", payloads, tmp_path / "run")

    assert all(outcome.ok for outcome in outcomes) and len(activations) == 1000
    waiting = requests - 1000  # the invocations themselves
    baseline = per_activation_polling_requests(activations)
    assert waiting * 50 <= baseline, f"{waiting} requests while waiting vs {baseline}"
    lags = activations["detected_ms"] - activations["end_ms"]
    assert (lags >= 0).all(), "an activation cannot be seen before it ended"


class SkewedController:
    """Map activations with their own durations, on a clock `skew_ms` off ours."""

    def __init__(self, skew_ms: int, durations_ms: list[int]):
        self.skew_ms = skew_ms
        self.durations_ms = list(durations_ms)
        self.activations: dict[str, dict] = {}
        self.list_requests = 0
        self.single_gets = 0
        self.wrong: list[str] = []  # requests a real controller would not have taken
        self.lock = threading.Lock()

    def clock(self) -> int:
        return int(time.time() * 1000) + self.skew_ms

    def invoke(self, body: dict) -> dict:
        with self.lock:
            duration = self.durations_ms.pop(0)
            activation_id = uuid.uuid4().hex
            start = self.clock()
            self.activations[activation_id] = {
                "activationId": activation_id, "name": "hello", "start": start,
                "end": start + duration, "duration": duration,
                "response": {"status": "success", "statusCode": 0, "success": True,
                             "result": {"worker_id": body["worker_id"]}},
                "annotations": [],
            }
        return {"activationId": activation_id}

    def listing(self, query: dict) -> list[dict]:
        self.list_requests += 1
        now = self.clock()
        since = int(query.get("since", ["0"])[0])
        with self.lock:
            done = [a for a in self.activations.values() if a["end"] <= now and a["start"] >= since]
        done.sort(key=lambda a: a["start"], reverse=True)
        skip, limit = int(query["skip"][0]), int(query["limit"][0])
        return done[skip: skip + limit]

    def get(self, activation_id: str) -> dict | None:
        self.single_gets += 1
        record = self.activations.get(activation_id)
        return record if record and record["end"] <= self.clock() else None


@pytest.fixture
def skewed():
    servers = []

    def start(skew_ms: int, durations_ms: list[int]) -> tuple[SkewedController, str]:
        fake = SkewedController(skew_ms, durations_ms)

        class Handler(JsonHandler):
            def refused(self) -> bool:
                wrong = wrong_request(self.command, self.path, self.headers, AUTH, "hello")
                if wrong:
                    fake.wrong.append(wrong)
                    self.reply(400, {"error": wrong, "code": 1})
                return wrong is not None

            def do_POST(self) -> None:
                if not self.refused():
                    self.reply(202, fake.invoke(self.body()))

            def do_GET(self) -> None:
                if self.refused():
                    return
                url = urlparse(self.path)
                if url.path.endswith("/activations"):
                    self.reply(200, fake.listing(parse_qs(url.query)))
                    return
                record = fake.get(url.path.rsplit("/", 1)[-1])
                if record is None:
                    self.reply(404, {"error": "The requested resource does not exist.",
                                     "code": 1})
                else:
                    self.reply(200, record)

        server, url = serve(Handler)
        server.fake = fake
        servers.append(server)
        return fake, url

    yield start
    for server in servers:
        server.shutdown()
        assert server.fake.wrong == [], "the client sent requests a controller would refuse"


def test_a_controller_clock_far_behind_ours_still_finds_every_activation(skewed, tmp_path):
    fake, url = skewed(skew_ms=-30_000, durations_ms=[100] * 40)
    client = OpenWhiskClient(url, AUTH)

    outcomes, activations, _ = run_map(client, "hello", [{}] * 40, tmp_path, concurrency=8)

    assert [o.result["worker_id"] for o in outcomes] == list(range(40))
    # One round of single GETs teaches the poller the clock; the list finds the rest.
    assert fake.single_gets <= 10
    assert activations["activation_id"].is_unique


def test_activations_ending_out_of_start_order_are_all_found_in_deep_scans(skewed, tmp_path):
    rng = random.Random(7)
    durations = [rng.randrange(20, 1500) for _ in range(800)]
    fake, url = skewed(skew_ms=0, durations_ms=durations)
    client = OpenWhiskClient(url, AUTH)

    outcomes, activations, _ = run_map(client, "hello", [{}] * 800, tmp_path)

    records = sorted(fake.activations.values(), key=lambda record: record["start"])
    ends = [record["end"] for record in records]
    overtaken = sum(1 for earlier, later in zip(ends, ends[1:], strict=False) if later < earlier)
    assert overtaken > 200, "the durations must make activations end out of start order"

    assert [o.result["worker_id"] for o in outcomes] == list(range(800))
    by_id = activations.set_index("activation_id")
    recorded = by_id["end_ms"] - by_id["start_ms"]
    assert (recorded == by_id.index.map(lambda i: fake.activations[i]["duration"])).all()
    assert fake.single_gets == 0, "the list alone found them"
