"""Activation records exactly as OpenWhisk writes them, and how answers map to statuses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from runner.platform.actions import Action

SUCCESS, APPLICATION_ERROR, DEVELOPER_ERROR, INTERNAL_ERROR = range(4)
_STATUS = ("success", "application error", "action developer error", "whisk internal error")


def response(code: int, result: Any) -> dict[str, Any]:
    return {
        "status": _STATUS[code],
        "statusCode": code,
        "success": code == SUCCESS,
        "result": result,
    }


def interpret(answer: bytes, pack: bool) -> tuple[int, Any]:
    """Status and result of an answer line: an object for map, an array for a burst pack.

    A map result with an "error" key is an application error; a pack is one when
    any worker's entry is an object with a truthy "error".
    """
    try:
        value = json.loads(answer)
    except ValueError:
        value = None
    if pack and isinstance(value, list):
        failed = any(isinstance(entry, dict) and entry.get("error") for entry in value)
        return (APPLICATION_ERROR if failed else SUCCESS), value
    if not pack and isinstance(value, dict):
        return (APPLICATION_ERROR if "error" in value else SUCCESS), value
    shown = answer[:200].decode("utf-8", "replace")
    return DEVELOPER_ERROR, {"error": f"The action did not produce a valid JSON response: {shown}"}


@dataclass
class Finished:
    """The facts of one ended activation, before they become a record."""

    activation_id: str
    accepted_ms: int
    start_ms: int
    end_ms: int
    init_ms: int | None
    timed_out: bool
    code: int
    result: Any
    logs: list[str]
    burst: dict[str, Any] | None = None  # a pack's burst id, group id and worker range


def activation_record(action: Action, subject: str, run: Finished) -> dict[str, Any]:
    """The record OpenWhisk stores; ``start`` is when the activation line was written."""
    annotations: list[dict[str, Any]] = [
        {"key": "path", "value": action.path},
        {"key": "waitTime", "value": max(0, run.start_ms - run.accepted_ms)},
        {"key": "kind", "value": action.exec.get("kind")},
        {"key": "limits", "value": dict(action.limits)},
        {"key": "timeout", "value": run.timed_out},
    ]
    if run.init_ms is not None:
        annotations.append({"key": "initTime", "value": run.init_ms})
    if run.burst is not None:
        annotations.append({"key": "burst", "value": run.burst})
    return {
        "activationId": run.activation_id,
        "namespace": action.namespace,
        "name": action.name,
        "version": action.version,
        "subject": subject,
        "publish": False,
        "start": run.start_ms,
        "end": run.end_ms,
        "duration": run.end_ms - run.start_ms,
        "response": response(run.code, run.result),
        "logs": run.logs,
        "annotations": annotations,
    }


def brief(record: dict[str, Any]) -> dict[str, Any]:
    """The list view without ``docs``: no response or logs, but the status code."""
    view = {k: v for k, v in record.items() if k not in ("response", "logs")}
    view["statusCode"] = record["response"]["statusCode"]
    return view
