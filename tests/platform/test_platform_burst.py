"""The burst extension: packs, the exact stdin line each pack gets, gang limits."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runner.burst import catalog


def test_burst_of_10_in_packs_of_3(platform: Any) -> None:
    platform.put("burst", parameters=[{"key": "d", "value": "default"}])
    workers = [{"i": i} for i in range(10)]
    response = platform.invoke(
        "burst", {"value": workers}, burst="true", granularity="3", join="false", chunk_size="64"
    )
    assert response.status_code == 202, response.text
    ids = response.json()["activationIds"]
    assert len(ids) == 4 and len(set(ids)) == 4

    records = [platform.activation(i) for i in ids]
    expected_info = {"0": [0, 2], "1": [3, 5], "2": [6, 8], "3": [9, 9]}
    burst_ids = set()
    local_dirs = set()
    for group, record in enumerate(records):
        assert record["response"]["status"] == "success"
        entries = record["response"]["result"]
        first, last = expected_info[str(group)]
        assert [e["params"] for e in entries] == [
            {"d": "default", "i": i} for i in range(first, last + 1)
        ]
        line = entries[0]["line"]
        assert line["invoker_id"] == str(group)
        assert line["burst_info"] == expected_info
        assert line["debug"] is False
        assert line["middleware"]["chunk_size"] == 64
        backend = line["middleware"]["backend_info"]
        assert backend["backend_type"] == "Local"
        assert len(backend["uri"]) < 60
        assert all(e["dir_exists"] for e in entries)
        assert line["activation_id"] == ids[group]
        assert line["action_name"] == "/guest/burst"
        assert line["namespace"] == "guest"
        assert line["api_key"] == ":".join(platform.auth)
        assert re.fullmatch(r"\d+", line["deadline"])
        burst_ids.add(line["transaction_id"])
        local_dirs.add(backend["uri"])
        assert record["logs"][0].endswith(f"stdout: pack {group}")
        assert platform.notes(record)["burst"] == {
            "id": line["transaction_id"], "group": str(group), "workers": [first, last]
        }
    assert len(burst_ids) == 1 and re.fullmatch(r"[0-9a-f]{32}", burst_ids.pop())
    assert len(local_dirs) == 1
    # All packs ran at the same time (a gang): every start precedes every end.
    assert max(r["start"] for r in records) <= min(r["end"] for r in records)
    # The Local backend directory lives only as long as the burst.
    directory = Path(local_dirs.pop())
    deadline = time.monotonic() + 3
    while directory.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not directory.exists()


def test_burst_without_granularity_is_one_pack(platform: Any) -> None:
    platform.put("burst1")
    ids = platform.invoke("burst1", {"value": [{}, {}, {}]}, burst="true").json()["activationIds"]
    assert len(ids) == 1
    entries = platform.activation(ids[0])["response"]["result"]
    assert len(entries) == 3
    assert entries[0]["line"]["burst_info"] == {"0": [0, 2]}


def test_burst_errors(platform: Any) -> None:
    platform.put("burst2")
    too_big = platform.invoke("burst2", {"value": [{}] * 17}, burst="true", granularity="4")
    assert too_big.status_code == 400
    assert "16 worker slots" in too_big.json()["error"]
    for body in ({"value": []}, {"value": {}}, [1], {"value": [1, 2]}):
        assert platform.invoke("burst2", body, burst="true").status_code == 400
    # the fork's clients spell names with hyphens; a local platform has no servers
    for name, server in (("redis", "redis"), ("redis-list", "redis"), ("redis-stream", "redis"),
                         ("rabbitmq", "rabbitmq"), ("s3", "s3")):
        no_uri = platform.invoke("burst2", {"value": [{}]}, burst="true", backend=name)
        assert no_uri.status_code == 400
        assert no_uri.json()["error"] == (
            f"The burst backend '{name}' needs a {server} server, but this platform has none "
            f"(start it with --burst-backend {name}, or a --backend-uri of one).")
    # a backend the middleware does not implement is refused with the one list the runner's
    # schema and the middleware share
    for name in ("carrier-pigeon", "dragonfly"):
        unknown = platform.invoke("burst2", {"value": [{}]}, burst="true", backend=name)
        assert unknown.status_code == 400
        assert unknown.json()["error"] == (f"Unknown burst backend '{name}'; supported "
                                           f"backends: {', '.join(catalog.BACKENDS)}.")
    assert list(catalog.BACKENDS) == ["local", "redis", "redis_list", "redis_stream",
                                      "rabbitmq", "s3"]
    zero = platform.invoke("burst2", {"value": [{}]}, burst="true", granularity="0")
    assert zero.status_code == 400


def _packs(server: Any, ids: list[str]) -> list[tuple[str, list[int], dict[str, list[int]]]]:
    """(group, worker range, burst_info) of each pack, in group order."""
    packs = []
    for activation_id in ids:
        record = server.activation(activation_id)
        assert record["response"]["status"] == "success", record["response"]
        burst = server.notes(record)["burst"]
        info = record["response"]["result"][0]["line"]["burst_info"]
        packs.append((burst["group"], burst["workers"], info))
    return packs


def test_invokers_heterogeneous_packing_and_join(platform_factory: Callable[..., Any]) -> None:
    server = platform_factory("--invokers", "2", "--slots", "4")
    server.put("packed")

    def burst(workers: int, **query: str) -> list[str]:
        answer = server.invoke("packed", {"value": [{}] * workers}, burst="true", **query)
        assert answer.status_code == 202, answer.text
        return answer.json()["activationIds"]

    # No granularity: each invoker's free slots, largest first, one pack each.
    assert _packs(server, burst(6)) == [
        ("0", [0, 3], {"0": [0, 3], "1": [4, 5]}),
        ("1", [4, 5], {"0": [0, 3], "1": [4, 5]}),
    ]
    # Granularity 2 fills one invoker, then the next; join makes one pack per invoker.
    assert [p[1] for p in _packs(server, burst(8, granularity="2"))] == [
        [0, 1], [2, 3], [4, 5], [6, 7]
    ]
    joined = _packs(server, burst(8, granularity="2", join="true"))
    assert joined == [
        ("0", [0, 3], {"0": [0, 3], "1": [4, 7]}),
        ("1", [4, 7], {"0": [0, 3], "1": [4, 7]}),
    ]
    too_big = server.invoke("packed", {"value": [{}] * 9}, burst="true")
    assert too_big.status_code == 400
    assert "2 invoker(s) of 4 worker slots" in too_big.json()["error"]


def test_full_invokers_queue_and_waittime_shows_it(platform_factory: Callable[..., Any]) -> None:
    server = platform_factory("--invokers", "2", "--slots", "2")
    server.put("busy")
    first = server.invoke("busy", {"value": [{"sleep": 1}] * 4}, burst="true", granularity="2")
    queued_map = server.invoke("busy", {})
    queued_burst = server.invoke("busy", {"value": [{}] * 3}, burst="true")
    packs = [server.activation(i) for i in first.json()["activationIds"]]
    waited = [
        server.activation(queued_map.json()["activationId"]),
        *(server.activation(i) for i in queued_burst.json()["activationIds"]),
    ]
    ended = min(r["end"] for r in packs)
    for record in waited:
        assert record["response"]["status"] == "success"
        assert record["start"] >= ended
        assert server.notes(record)["waitTime"] >= 800
