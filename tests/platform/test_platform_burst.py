"""The burst extension: packs, the exact stdin line each pack gets, gang limits."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any


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
    no_uri = platform.invoke("burst2", {"value": [{}]}, burst="true", backend="redis")
    assert no_uri.status_code == 400
    assert "--backend-uri" in no_uri.json()["error"]
    unknown = platform.invoke("burst2", {"value": [{}]}, burst="true", backend="carrier-pigeon")
    assert unknown.status_code == 400
    zero = platform.invoke("burst2", {"value": [{}]}, burst="true", granularity="0")
    assert zero.status_code == 400
