"""Auth, action CRUD and request validation over real HTTP."""

from __future__ import annotations

import re
from typing import Any

import requests


def test_missing_or_wrong_auth_is_401(platform: Any) -> None:
    url = f"{platform.base}/actions"
    for auth in (None, (platform.auth[0], "wrong"), ("nobody", platform.auth[1])):
        response = requests.get(url, auth=auth)
        assert response.status_code == 401
        body = response.json()
        assert body["error"] == "The supplied authentication is invalid"
        assert re.fullmatch(r"[0-9a-f]{32}", body["code"])  # a transaction id, as OpenWhisk sends


def test_namespaces_and_limits(platform: Any) -> None:
    assert platform.http.get(f"{platform.apihost}/api/v1/namespaces").json() == ["guest"]
    assert platform.http.get(f"{platform.base}/limits").json() == {}
    named = f"{platform.apihost}/api/v1/namespaces/guest/limits"
    assert platform.http.get(named).status_code == 200
    other = platform.http.get(f"{platform.apihost}/api/v1/namespaces/someone/actions")
    assert other.status_code == 403
    assert "error" in other.json()


def test_put_get_conflict_overwrite_delete(platform: Any) -> None:
    url = f"{platform.base}/actions/crud"
    body = {
        "exec": {"kind": "blackbox", "code": platform.default_zip, "binary": True},
        "limits": {"timeout": 5000},
        "annotations": [{"key": "note", "value": "hi"}],
        "parameters": [{"key": "p", "value": 1}],
    }
    created = platform.http.put(url, json=body)
    assert created.status_code == 200, created.text
    record = created.json()
    assert (record["namespace"], record["name"], record["version"]) == ("guest", "crud", "0.0.1")
    assert record["publish"] is False
    assert record["limits"] == {"timeout": 5000, "memory": 256, "logs": 10, "concurrency": 1}
    assert {"key": "note", "value": "hi"} in record["annotations"]
    assert record["parameters"] == [{"key": "p", "value": 1}]

    conflict = platform.http.put(url, json=body)
    assert conflict.status_code == 409
    assert "error" in conflict.json()
    assert platform.http.put(url + "?overwrite=false", json=body).status_code == 409

    updated = platform.http.put(url + "?overwrite=true", json=body)
    assert updated.status_code == 200
    assert updated.json()["version"] == "0.0.2"

    fetched = platform.http.get(url).json()
    assert fetched["version"] == "0.0.2"
    assert {"key": "note", "value": "hi"} in fetched["annotations"]
    listed = platform.http.get(f"{platform.base}/actions").json()
    assert "crud" in [a["name"] for a in listed]

    assert platform.http.delete(url).status_code == 200
    missing = platform.http.get(url)
    assert missing.status_code == 404
    assert missing.json()["error"] == "The requested resource does not exist."
    assert platform.http.delete(url).status_code == 404
    assert platform.http.post(url, json={}).status_code == 404


def test_bad_requests_are_400_json(platform: Any) -> None:
    url = f"{platform.base}/actions/bad"
    malformed = platform.http.put(
        url, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert "error" in malformed.json()
    for raw in (b'{"a": NaN}', b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe"):
        assert platform.http.put(url, data=raw).status_code == 400
    for body in (
        [],
        {"exec": "nope"},
        {"exec": {"kind": "blackbox"}},
        {"exec": {"kind": "blackbox", "code": "print('not a zip')"}},
        {"exec": {"kind": "blackbox", "code": platform.default_zip}, "limits": {"timeout": "soon"}},
        {"exec": {"kind": "blackbox", "code": platform.default_zip}, "parameters": {"a": 1}},
    ):
        response = platform.http.put(url, json=body)
        assert response.status_code == 400, (body, response.text)
        assert "error" in response.json()

    no_exec = platform.http.put(
        url, json={"exec": {"kind": "blackbox", "code": platform.make_zip({"main.py": ""})}}
    )
    assert no_exec.status_code == 400
    assert "'exec'" in no_exec.json()["error"]

    assert platform.put("bad").status_code == 200
    assert platform.invoke("bad", [1, 2]).status_code == 400
    assert platform.invoke("bad", {}, blocking="maybe").status_code == 400
    unknown = platform.http.get(f"{platform.apihost}/api/v1/nothing/here")
    assert unknown.status_code == 404
    assert "error" in unknown.json()
