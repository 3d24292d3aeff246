"""The runner against a misbehaving controller: throttling, 5xx, dropped connections, slowness.

A small fake controller stands in for a real cluster (the embedded platform
never misbehaves this way); it keeps every activation it accepted, so the test
can check that none is lost and none is run twice, and it refuses (and notes)
any request that is not exactly what a cluster's controller expects, so a test
passes only if the client sent the real paths, queries and credentials.
"""

from __future__ import annotations

import threading
import time
import uuid
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

from runner.client.openwhisk import BurstOptions, OpenWhiskClient
from runner.pipeline.executor import Executor
from runner.rundir.recorder import Recorder
from tests.helpers.json_server import JsonHandler, serve, wrong_request

AUTH = "u:k"


class FakeController:
    """Accepts map invocations, finishes each after `run_ms`, serves the activation list."""

    def __init__(self, run_ms: int = 50):
        self.run_ms = run_ms
        self.activations: dict[str, dict] = {}
        self.faults: list[str] = []  # consumed one per request: "429", "503", "500", "drop", "slow"
        self.requests = 0
        self.wrong: list[str] = []  # requests a real controller would not have taken
        self.lock = threading.Lock()

    def next_fault(self) -> str | None:
        with self.lock:
            self.requests += 1
            return self.faults.pop(0) if self.faults else None

    def invoke(self, body: dict) -> dict:
        now = int(time.time() * 1000)
        activation_id = uuid.uuid4().hex
        with self.lock:
            self.activations[activation_id] = {
                "activationId": activation_id, "name": "hello", "start": now,
                "end": now + self.run_ms, "duration": self.run_ms, "params": body,
                "response": {"status": "success", "statusCode": 0, "success": True,
                             "result": {"worker_id": body.get("worker_id")}},
                "annotations": [{"key": "waitTime", "value": 1}],
            }
        return {"activationId": activation_id}

    def listing(self, query: dict) -> list[dict]:
        now = int(time.time() * 1000)
        with self.lock:
            done = [a for a in self.activations.values() if a["end"] <= now]
        done.sort(key=lambda a: a["start"], reverse=True)
        skip = int(query.get("skip", ["0"])[0])
        limit = int(query.get("limit", ["30"])[0])
        return done[skip: skip + limit]


@pytest.fixture
def controller():
    fake = FakeController()

    class Handler(JsonHandler):
        def _serve(self) -> None:
            body = self.body()
            wrong = wrong_request(self.command, self.path, self.headers, AUTH, "hello")
            if wrong:
                fake.wrong.append(wrong)
                self.reply(400, {"error": wrong, "code": 1})
                return
            fault = fake.next_fault()
            if fault == "drop":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"trunc")
                self.close_connection = True
                return
            if fault == "slow":
                time.sleep(0.5)
            if fault in ("429", "503", "500"):
                message = {"429": "Too many concurrent requests in flight (count: 9, allowed: 8).",
                           "503": "Service Unavailable", "500": "Internal Server Error"}[fault]
                self.reply(int(fault), {"error": message, "code": 1})
                return
            url = urlparse(self.path)
            if self.command == "POST":
                self.reply(202, fake.invoke(body))
            else:
                self.reply(200, fake.listing(parse_qs(url.query)))

        do_GET = do_POST = _serve

    server, fake.url = serve(Handler)
    yield fake
    server.shutdown()
    assert fake.wrong == [], "the client sent requests a controller would refuse"


def run_map(controller: FakeController, tmp_path, workers: int):
    client = OpenWhiskClient(controller.url, AUTH, retries=10)
    recorder = Recorder(tmp_path)
    executor = Executor(client, "hello", recorder, concurrency=8, timeout_s=30, mode="map",
                        burst_options=BurstOptions())
    outcomes = executor.run([{} for _ in range(workers)])
    recorder.close()
    return outcomes, pd.read_csv(tmp_path / "activations.csv")


@pytest.mark.parametrize("fault", ["429", "503"])
def test_refusals_for_a_while_lose_nothing_and_duplicate_nothing(controller, tmp_path, fault):
    controller.faults = [fault] * 25
    outcomes, activations = run_map(controller, tmp_path, workers=20)
    assert [o.worker_id for o in outcomes if o.ok] == list(range(20))
    invoked = sorted(a["params"]["worker_id"] for a in controller.activations.values())
    assert invoked == list(range(20)), "each worker invoked exactly once"
    assert activations["activation_id"].is_unique and len(activations) == 20


def test_errors_and_dropped_connections_while_polling_are_retried(controller, tmp_path):
    outcomes = []

    def inject_after_invocations() -> None:
        while len(controller.activations) < 10:
            time.sleep(0.005)
        controller.faults = ["500", "drop", "slow", "500", "drop"]

    threading.Thread(target=inject_after_invocations, daemon=True).start()
    outcomes, activations = run_map(controller, tmp_path, workers=10)
    assert all(o.ok for o in outcomes) and len(outcomes) == 10
    assert len(controller.activations) == 10
    assert (activations["detected_ms"] >= activations["end_ms"]).all()


def test_throttling_that_outlasts_the_retries_is_recorded_with_the_message(controller, tmp_path):
    controller.faults = ["429"] * 1000
    outcomes, activations = run_map(controller, tmp_path, workers=2)
    assert not any(o.ok for o in outcomes)
    assert (activations["status"] == "not invoked").all()
    assert activations["error"].str.contains("Too many concurrent requests").all()
    assert controller.activations == {}


def test_a_controller_that_never_answers_the_list_ends_at_the_deadline(controller, tmp_path):
    client = OpenWhiskClient(controller.url, AUTH, retries=1)
    recorder = Recorder(tmp_path)
    executor = Executor(client, "hello", recorder, concurrency=2, timeout_s=2, mode="map",
                        burst_options=BurstOptions())

    def break_polling() -> None:
        while len(controller.activations) < 2:
            time.sleep(0.005)
        controller.faults = ["500"] * 100_000

    threading.Thread(target=break_polling, daemon=True).start()
    with pytest.raises(Exception, match="unfinished after 2 s.*last poll failed: HTTP 500"):
        executor.run([{}, {}])
    recorder.close()
    workers = pd.read_csv(tmp_path / "workers.csv")
    assert len(workers) == 2 and (workers["status"] == "unfinished").all()


def test_the_fake_refuses_what_a_controller_would(controller):
    # the check every test here relies on: a wrong key, path or query gets no activation
    for auth, name in (("u:wrong", "hello"), (AUTH, "other")):
        client = OpenWhiskClient(controller.url, auth, retries=0)
        with pytest.raises(Exception, match="HTTP 400"):
            client.invoke(name, {})
    with pytest.raises(Exception, match="HTTP 400"):
        OpenWhiskClient(controller.url, AUTH, retries=0).list_activations("hello", limit=500)
    assert len(controller.wrong) == 3 and controller.activations == {}
    controller.wrong.clear()


def test_unknown_action_is_a_failed_row_with_the_controllers_message(standalone_platform,
                                                                      tmp_path):
    # the real platform answers an action that was never deployed as OpenWhisk does
    client = OpenWhiskClient(standalone_platform["APIHOST"], standalone_platform["AUTH"])
    recorder = Recorder(tmp_path)
    executor = Executor(client, "never_deployed", recorder, concurrency=2, timeout_s=30,
                        mode="map", burst_options=BurstOptions())
    outcomes = executor.run([{}, {}])
    recorder.close()
    activations = pd.read_csv(tmp_path / "activations.csv")
    assert not any(o.ok for o in outcomes)
    assert (activations["status"] == "not invoked").all()
    assert activations["error"].str.contains("HTTP 404: The requested resource does not").all()


def test_thousands_of_quick_invocations_are_each_recorded_once(controller, tmp_path):
    # invocations end while the waiting loop sorts the sent from the unsent: none may slip
    # between the two (10,000 real ones lost 154 that way)
    controller.run_ms = 0
    workers = 6000
    client = OpenWhiskClient(controller.url, AUTH, pool_size=65)  # the invokers and the poller
    recorder = Recorder(tmp_path)
    executor = Executor(client, "hello", recorder, concurrency=64, timeout_s=120, mode="map",
                        burst_options=BurstOptions())
    outcomes = executor.run([{} for _ in range(workers)])
    recorder.close()
    assert [o.worker_id for o in outcomes] == list(range(workers))
    assert all(o.ok for o in outcomes)
    activations = pd.read_csv(tmp_path / "activations.csv")
    assert len(activations) == workers and activations["activation_id"].is_unique


def test_retries_that_last_are_said_in_one_line_not_one_per_request(controller, tmp_path):
    controller.faults = ["429"] * 25
    said: list[str] = []
    client = OpenWhiskClient(controller.url, AUTH, retries=10, notify=said.append)
    recorder = Recorder(tmp_path)
    executor = Executor(client, "hello", recorder, concurrency=8, timeout_s=30, mode="map",
                        burst_options=BurstOptions())
    outcomes = executor.run([{} for _ in range(10)])
    recorder.close()
    assert all(o.ok for o in outcomes)
    assert said == [f"waiting: {controller.url} answered HTTP 429 (Too many concurrent requests "
                    "in flight (count: 9, allowed: 8).); retrying with backoff"]
