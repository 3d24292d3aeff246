"""Response shapes against the OpenWhisk API definitions (Swagger 2.0).

``openwhisk-apiv1-swagger.json`` beside this file is OpenWhisk's own API spec
(Apache-2.0), copied from the project's shared reference so the test runs on
any clone. A small checker follows ``$ref`` s into ``definitions`` and checks
``required`` properties and ``type`` s, so any client generated from the spec
can read what the platform answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPEC = json.loads((Path(__file__).with_name("openwhisk-apiv1-swagger.json")).read_text())
_TYPES: dict[str, Any] = {
    "string": str,
    "boolean": bool,
    "array": list,
    "object": dict,
    "number": (int, float),
}


def problems(value: Any, schema: dict[str, Any], spec: dict[str, Any], at: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema``: missing required properties and wrong types."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return problems(value, spec["definitions"][name], spec, at)
    kind = schema.get("type") or ("object" if "properties" in schema else None)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return [f"{at}: expected integer, got {type(value).__name__}"]
    elif kind is not None and not isinstance(value, _TYPES[kind]):
        return [f"{at}: expected {kind}, got {type(value).__name__}"]
    found: list[str] = []
    if isinstance(value, dict):
        missing = [key for key in schema.get("required", []) if key not in value]
        found += [f"{at}: missing '{key}'" for key in missing]
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                found += problems(value[key], sub, spec, f"{at}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += problems(item, schema["items"], spec, f"{at}[{index}]")
    return found


def test_the_checker_catches_wrong_shapes() -> None:
    spec = SPEC
    schema = {"$ref": "#/definitions/ActivationBrief"}
    assert problems({"namespace": "n"}, schema, spec)[0] == "$: missing 'name'"
    brief = {
        "namespace": "n", "name": "a", "version": "0.0.1", "publish": False,
        "activationId": "x", "start": True,
    }
    assert problems(brief, schema, spec) == ["$.start: expected integer, got bool"]


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/definitions/{name}"}


def _check(value: Any, schema: dict[str, Any]) -> None:
    assert problems(value, schema, SPEC) == []


def test_action_activation_and_list_endpoints_conform(platform: Any) -> None:
    put = platform.put(
        "shaped",
        parameters=[{"key": "p", "value": 1}],
        annotations=[{"key": "note", "value": {"nested": True}}],
    )
    _check(put.json(), _ref("Action"))
    base = platform.base
    _check(platform.http.get(f"{base}/actions/shaped").json(), _ref("Action"))
    actions = platform.http.get(f"{base}/actions").json()
    _check(actions, {"type": "array", "items": _ref("ActionMeta")})
    _check(platform.http.get(f"{platform.apihost}/api/v1/namespaces").json(),
           {"type": "array", "items": {"type": "string"}})
    _check(platform.http.get(f"{base}/limits").json(), _ref("UserLimits"))

    accepted = platform.invoke("shaped", {"say": "hi"})
    assert accepted.status_code == 202
    _check(accepted.json(), _ref("ActivationId"))
    activation_id = accepted.json()["activationId"]
    record = platform.activation(activation_id)
    _check(record, _ref("Activation"))
    _check(platform.invoke("shaped", {}, blocking="true").json(), _ref("Activation"))
    failed = platform.invoke("shaped", {"error": "no"}, blocking="true").json()
    _check(failed, _ref("Activation"))
    _check(platform.http.get(f"{base}/activations/{activation_id}/result").json(),
           _ref("ActivationResult"))
    _check(platform.http.get(f"{base}/activations/{activation_id}/logs").json(),
           _ref("ActivationLogs"))

    packs = platform.invoke("shaped", {"value": [{}, {}]}, burst="true", granularity="1")
    for pack_id in packs.json()["activationIds"]:
        _check(platform.activation(pack_id), _ref("Activation"))
    briefs = platform.http.get(f"{base}/activations", params={"name": "shaped"}).json()
    _check(briefs, {"type": "array", "items": _ref("ActivationBrief")})
    docs = platform.http.get(f"{base}/activations", params={"docs": "true"}).json()
    _check(docs, {"type": "array", "items": _ref("Activation")})

    for error in (
        platform.http.get(f"{base}/actions/missing"),
        platform.http.get(f"{base}/activations/{'0' * 32}"),
        platform.http.put(f"{base}/actions/shaped", json={"exec": "nope"}),
        platform.invoke("shaped", {"blob": "x" * (2 << 20)}),
    ):
        assert error.status_code >= 400
        _check(error.json(), _ref("ErrorMessage"))
    _check(platform.http.delete(f"{base}/actions/shaped").json(), _ref("Action"))
