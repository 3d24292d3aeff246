"""The requests the Apache OpenWhisk ``wsk`` CLI sends, as it sends them, and OpenWhisk's answers.

Method, path, query, headers and body of each request were copied from
``wsk -d`` runs against this platform (``property get``, ``namespace get``,
``list``, ``action create/update/get``, ``action invoke --blocking``,
``activation get``), so these tests need no CLI. The timing checks are
relations between the record's fields, the action's own deadline and the
client's clock (same machine), never thresholds.
"""

from __future__ import annotations

import base64
import json
import time
from importlib import metadata
from typing import Any

import requests

CLI_AGENT = "OpenWhisk-CLI/1.0 (2026-11-29T15:39:13+0000) linux amd64"
# ``GET /api/v1`` is built without headers; Go's client then sends only these.
GO_HEADERS = {"User-Agent": "Go-http-client/1.1", "Accept-Encoding": "gzip"}
HELLO = 'def main(args):\n    return {"greeting": "hi " + args.get("name","x")}\n'
# A slow import makes the initialization long next to the run, so the relations
# below tell an ``initTime`` inside ``duration`` from one inside ``waitTime``.
DEADLINE = (
    "import os, time\ntime.sleep(0.3)\n\n"
    "def main(args):\n    return {'deadline': int(os.environ['__OW_DEADLINE'])}\n"
)
BROKEN = "import time\ntime.sleep(0.3)\nraise ImportError('no init for you')\n"


def now_ms() -> int:
    """The client's clock, floored to milliseconds like the platform's."""
    return time.time_ns() // 1_000_000


def wsk(
    platform: Any, method: str, target: str, body: dict[str, Any] | None = None
) -> requests.Response:
    """One request as the CLI sends it: Basic auth, its User-Agent, a JSON body plus newline."""
    token = base64.b64encode(":".join(platform.auth).encode()).decode()
    headers = {"Authorization": f"Basic {token}", "User-Agent": CLI_AGENT}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = (json.dumps(body, separators=(",", ":")) + "\n").encode()
    return requests.request(method, f"{platform.apihost}{target}", headers=headers, data=data)


def create_body(name: str, code: str, kind: str = "python:default") -> dict[str, Any]:
    """``wsk action create NAME FILE.py`` (no ``--kind``: the CLI says ``python:default``)."""
    return {"namespace": "_", "name": name, "exec": {"kind": kind, "code": code}}


def create(platform: Any, name: str, code: str) -> dict[str, Any]:
    target = f"/api/v1/namespaces/_/actions/{name}?overwrite=false"
    created = wsk(platform, "PUT", target, create_body(name, code))
    assert created.status_code == 200, created.text
    return created.json()


def update(platform: Any, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """``wsk action update``: it reads the action first, then overwrites it."""
    assert wsk(platform, "GET", f"/api/v1/namespaces/_/actions/{name}?code=false").ok
    target = f"/api/v1/namespaces/_/actions/{name}?overwrite=true"
    updated = wsk(platform, "PUT", target, body)
    assert updated.status_code == 200, updated.text
    return updated.json()


def invoke(platform: Any, name: str) -> tuple[int, dict[str, Any], int]:
    """``wsk action invoke NAME --blocking``, bracketed by the client's clock."""
    target = f"/api/v1/namespaces/_/actions/{name}?blocking=true&result=false"
    sent = now_ms()
    answer = wsk(platform, "POST", target, {})
    received = now_ms()
    return sent, answer.json(), received


def exec_annotations(record: dict[str, Any]) -> list[Any]:
    return [a["value"] for a in record["annotations"] if a["key"] == "exec"]


def test_property_get_reads_the_api_description_without_credentials(platform: Any) -> None:
    assert wsk(platform, "GET", "/api/v1/namespaces").json() == ["guest"]
    info = requests.get(f"{platform.apihost}/api/v1", headers=GO_HEADERS)
    assert info.status_code == 200, info.text
    version = metadata.version("burst-runner")
    assert info.json() == {
        "description": "OpenWhisk API",
        "api_version": "1.0.0",
        "api_version_path": "v1",
        "build": f"burst-runner {version} (embedded platform)",
        "buildno": version,
        "swagger_paths": {"ui": "/docs", "api-docs": "/api-docs"},
    }
    assert requests.get(f"{platform.apihost}/api/v1/", headers=GO_HEADERS).json() == info.json()
    # Only the description is open: everything else still needs the key.
    for method, path in (("POST", "/api/v1"), ("GET", "/api/v1/namespaces")):
        closed = requests.request(method, f"{platform.apihost}{path}", headers=GO_HEADERS)
        assert closed.status_code == 401
        assert closed.json()["error"] == "The supplied authentication is invalid"


def test_namespace_get_and_list_read_all_four_collections(platform: Any) -> None:
    base = "/api/v1/namespaces/_"
    for collection in ("actions", "packages", "triggers", "rules"):
        listed = wsk(platform, "GET", f"{base}/{collection}?limit=0&skip=0")
        assert listed.status_code == 200, (collection, listed.text)
        assert isinstance(listed.json(), list)
        if collection != "actions":
            assert listed.json() == []
    # Checked like the actions list: namespace, limit and skip.
    for query in ("?limit=201", "?limit=x", "?skip=-1", "?limit=200&skip=5"):
        expected = wsk(platform, "GET", f"{base}/actions{query}").status_code
        for collection in ("packages", "triggers", "rules"):
            answer = wsk(platform, "GET", f"{base}/{collection}{query}")
            assert answer.status_code == expected, (collection, query, answer.text)
    for collection in ("packages", "triggers", "rules"):
        assert wsk(platform, "GET", f"/api/v1/namespaces/guest/{collection}").json() == []
        other = wsk(platform, "GET", f"/api/v1/namespaces/someone/{collection}")
        assert other.status_code == 403
        anonymous = requests.get(f"{platform.apihost}{base}/{collection}", headers=GO_HEADERS)
        assert anonymous.status_code == 401


def test_create_without_kind_stores_the_default_kind(platform: Any) -> None:
    created = create(platform, "wsk-hello", HELLO)
    assert created["exec"] == {"kind": "python:3", "binary": False}
    assert exec_annotations(created) == ["python:3"]
    fetched = wsk(platform, "GET", "/api/v1/namespaces/_/actions/wsk-hello?code=false").json()
    assert fetched["exec"]["kind"] == "python:3" and exec_annotations(fetched) == ["python:3"]
    _, record, _ = invoke(platform, "wsk-hello")
    assert record["response"]["result"] == {"greeting": "hi x"}
    assert platform.notes(record)["kind"] == "python:3"


def test_update_replaces_the_exec_annotation(platform: Any) -> None:
    create(platform, "wsk-kinds", HELLO)
    changed = update(platform, "wsk-kinds", create_body("wsk-kinds", HELLO, "python:3.11"))
    assert changed["exec"]["kind"] == "python:3.11"
    assert exec_annotations(changed) == ["python:3.11"]
    # ``-p name dflt`` alone keeps the code and kind, and so the annotation.
    params = {"namespace": "_", "name": "wsk-kinds", "parameters": [{"key": "name", "value": "d"}]}
    kept = update(platform, "wsk-kinds", params)
    assert kept["exec"]["kind"] == "python:3.11" and exec_annotations(kept) == ["python:3.11"]
    # ``-a exec nodejs:20`` cannot make the annotation lie about the kind.
    stale = {"namespace": "_", "name": "wsk-kinds",
             "annotations": [{"key": "exec", "value": "nodejs:20"}]}
    reset = update(platform, "wsk-kinds", stale)
    assert reset["exec"]["kind"] == "python:3.11" and exec_annotations(reset) == ["python:3.11"]
    back = update(platform, "wsk-kinds", create_body("wsk-kinds", HELLO))
    assert back["exec"]["kind"] == "python:3" and exec_annotations(back) == ["python:3"]


def test_cold_and_warm_records_carry_openwhisk_timing(platform: Any) -> None:
    create(platform, "wsk-timing", DEADLINE)
    sent, cold, received = invoke(platform, "wsk-timing")
    assert cold["response"]["status"] == "success", cold
    notes = platform.notes(cold)
    init = notes["initTime"]
    # The action's deadline is its run's start plus the time limit.
    run_start = cold["response"]["result"]["deadline"] - notes["limits"]["timeout"]
    assert cold["start"] + cold["duration"] == cold["end"]
    assert cold["start"] + init == run_start  # duration covers the initialization
    assert sent <= cold["start"] and cold["end"] <= received
    assert notes["waitTime"] + init <= run_start - sent  # the wait excludes it
    fetched = wsk(platform, "GET", f"/api/v1/namespaces/_/activations/{cold['activationId']}")
    assert fetched.json() == cold

    sent, warm, received = invoke(platform, "wsk-timing")
    notes = platform.notes(warm)
    assert "initTime" not in notes
    run_start = warm["response"]["result"]["deadline"] - notes["limits"]["timeout"]
    assert warm["start"] == run_start
    assert warm["start"] + warm["duration"] == warm["end"]
    assert sent <= warm["start"] and warm["end"] <= received
    assert notes["waitTime"] <= warm["start"] - sent


def test_a_failed_initialization_is_the_whole_record(platform: Any) -> None:
    create(platform, "wsk-broken", BROKEN)
    sent, record, received = invoke(platform, "wsk-broken")
    assert record["response"]["status"] == "action developer error"
    notes = platform.notes(record)
    # As OpenWhisk records a failed init: the record spans it, and the wait precedes it.
    assert record["duration"] == notes["initTime"]
    assert record["start"] + record["duration"] == record["end"]
    assert sent <= record["start"] and record["end"] <= received
    assert notes["waitTime"] <= record["start"] - sent
