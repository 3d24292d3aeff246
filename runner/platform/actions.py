"""Actions: validating PUT bodies and the records OpenWhisk answers for them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runner.platform.errors import ApiError
from runner.platform.runtimes import Runtime, resolve_kind

DEFAULT_LIMITS: dict[str, int] = {"timeout": 60000, "memory": 256, "logs": 10, "concurrency": 1}
# OpenWhisk's entity name rule (letters, digits, _ @ . - and inner spaces), 256 chars max.
_NAME = re.compile(r"^[\w@.-]([\w@ .-]*[\w@.-])?$")
_EXEC_FIELDS = {"kind": str, "code": str, "main": str, "image": str, "binary": bool}


def check_name(name: str) -> None:
    if len(name) > 256 or not _NAME.match(name):
        raise ApiError(400, f"The action name '{name}' is not valid.")


@dataclass(frozen=True)
class Action:
    """One version of an action; replaced as a whole on update."""

    namespace: str
    name: str
    version: str
    revision: int  # unique per deployment: warm containers never serve another one
    exec: dict[str, Any]
    code: str
    runtime: Runtime
    limits: dict[str, int]
    annotations: list[dict[str, Any]]
    parameters: list[dict[str, Any]]
    updated: int

    @property
    def path(self) -> str:
        """``namespace/name``: the activation ``path`` annotation and the warm-pool key."""
        return f"{self.namespace}/{self.name}"

    def defaults(self) -> dict[str, Any]:
        """Bound parameters, merged under every invocation's own parameters."""
        return {p["key"]: p["value"] for p in self.parameters}

    def annotation(self, key: str) -> Any:
        return next((a["value"] for a in self.annotations if a["key"] == key), None)

    def record(self, with_code: bool = False) -> dict[str, Any]:
        """The JSON OpenWhisk returns for an action (code only on request: zips are big)."""
        exec_view = dict(self.exec)
        if with_code:
            exec_view["code"] = self.code
        return {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "publish": False,
            "exec": exec_view,
            "limits": dict(self.limits),
            "annotations": list(self.annotations),
            "parameters": list(self.parameters),
            "updated": self.updated,
        }


@dataclass
class ActionPut:
    """A validated PUT body; absent fields keep the previous version's value on update."""

    exec: dict[str, Any] | None = None
    limits: dict[str, int] | None = None
    annotations: list[dict[str, Any]] | None = None
    parameters: list[dict[str, Any]] | None = None


def parse_put(body: Any) -> ActionPut:
    """Check types of a PUT body; raise ApiError(400) with the offending field."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request content was malformed: expected a JSON object.")
    put = ActionPut()
    if "exec" in body:
        put.exec = _parse_exec(body["exec"])
    if "limits" in body:
        put.limits = _parse_limits(body["limits"])
    if "annotations" in body:
        put.annotations = _parse_pairs(body["annotations"], "annotations")
    if "parameters" in body:
        put.parameters = _parse_pairs(body["parameters"], "parameters")
    return put


def _parse_exec(value: Any) -> dict[str, Any]:
    """The validated ``exec``, its ``<family>:default`` kind resolved as OpenWhisk stores it."""
    if not isinstance(value, dict):
        raise ApiError(400, "The request content was malformed: 'exec' must be an object.")
    for key, kind in _EXEC_FIELDS.items():
        if key in value and value[key] is not None and not isinstance(value[key], kind):
            raise ApiError(
                400, f"The request content was malformed: 'exec.{key}' must be a {kind.__name__}."
            )
    if not isinstance(value.get("kind"), str):
        raise ApiError(400, "The request content was malformed: 'exec.kind' is required.")
    if not isinstance(value.get("code"), str):
        raise ApiError(
            400,
            "The embedded platform needs 'exec.code': a base64 zip whose root holds an "
            "executable 'exec', or Python source (container images cannot run here).",
        )
    parsed = {k: value[k] for k in _EXEC_FIELDS if value.get(k) is not None}
    parsed["kind"] = resolve_kind(parsed["kind"])
    return parsed


def _parse_limits(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ApiError(400, "The request content was malformed: 'limits' must be an object.")
    limits = dict(DEFAULT_LIMITS)
    for key, number in value.items():
        if key not in DEFAULT_LIMITS:
            continue
        if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < 2**31:
            raise ApiError(
                400,
                f"The request content was malformed: 'limits.{key}' must be a positive integer.",
            )
        limits[key] = number
    return limits


def _parse_pairs(value: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(
        isinstance(p, dict) and isinstance(p.get("key"), str) for p in value
    ):
        raise ApiError(
            400, f"The request content was malformed: '{what}' must be a list of {{key, value}}."
        )
    return [{"key": p["key"], "value": p.get("value")} for p in value]


def next_version(previous: Action | None) -> str:
    """OpenWhisk bumps the patch number on every update."""
    if previous is None:
        return "0.0.1"
    major, minor, patch = (int(part) for part in previous.version.split("."))
    return f"{major}.{minor}.{patch + 1}"
