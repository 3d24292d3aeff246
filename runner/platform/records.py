"""Activation records exactly as OpenWhisk writes them, and how answers map to statuses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from runner.platform.actions import Action
from runner.platform.containers import Span
from runner.platform.limits import DEVELOPER_ERROR_STATUS

SUCCESS, APPLICATION_ERROR, DEVELOPER_ERROR, INTERNAL_ERROR = range(4)
_STATUS = ("success", "application error", DEVELOPER_ERROR_STATUS, "whisk internal error")


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
        return pack_code(value), value
    if not pack and isinstance(value, dict):
        return (APPLICATION_ERROR if "error" in value else SUCCESS), value
    shown = answer[:200].decode("utf-8", "replace")
    return DEVELOPER_ERROR, {"error": f"The action did not produce a valid JSON response: {shown}"}


def pack_code(entries: list[Any]) -> int:
    """A pack's status: its worst worker's, an application error unless an entry names
    OpenWhisk's developer error (a worker at its time or memory limit)."""
    code = SUCCESS
    for entry in entries:
        if isinstance(entry, dict) and entry.get("error"):
            named = DEVELOPER_ERROR if entry.get("status") == DEVELOPER_ERROR_STATUS else None
            code = max(code, named or APPLICATION_ERROR)
    return code


@dataclass
class Finished:
    """The facts of one ended activation, before they become a record.

    ``run_start_ms`` is when the activation line was written to the action (for
    one that never ran: when it ended); ``init`` is the part of a cold start it
    waited for (see ``waited_init``), None for a warm start.
    """

    activation_id: str
    accepted_ms: int
    run_start_ms: int
    end_ms: int
    init: Span | None
    timed_out: bool
    code: int
    result: Any
    logs: list[str]
    burst: dict[str, Any] | None = None  # a pack's burst id, group id and worker range


def waited_init(cold_start: Span | None, accepted_ms: int) -> Span | None:
    """The part of a container's cold start that an activation waited for, if any.

    In OpenWhisk a container initializes for the activation it then runs, so that
    activation waited for the whole initialization. Here a container starts for its
    action's queue and serves whichever activation is oldest once it is ready: one
    accepted during the start waited only for the rest of it, and one accepted after
    it was ready found a warm container (in the same millisecond it still counts as
    cold: a start too quick to measure is one). Clipping keeps every record inside
    its activation's life (``start`` never before acceptance), which clients that
    list records ``since`` a submit time rely on, as they may on a real controller.
    """
    if cold_start is None or cold_start.end_ms < accepted_ms:
        return None
    return Span(max(cold_start.begin_ms, accepted_ms), cold_start.end_ms)


def activation_record(action: Action, subject: str, run: Finished) -> dict[str, Any]:
    """The record OpenWhisk stores, with its invoker's (ContainerProxy's) timing.

    For a cold start ``start`` is the run's start minus ``initTime``, so ``duration``
    (``end - start``) includes the initialization; ``waitTime`` runs from acceptance
    to the start of the initialization (of the run, when warm), so it excludes it.
    Only a cold start has ``initTime``. The record of an activation whose container
    failed to initialize spans that initialization, as OpenWhisk's does; one that
    never got a container starts and ends when it failed.
    """
    init_ms = run.init.ms if run.init is not None else None
    start = run.run_start_ms - (init_ms or 0)
    waited_until = run.init.begin_ms if run.init is not None else run.run_start_ms
    annotations: list[dict[str, Any]] = [
        {"key": "path", "value": action.path},
        {"key": "waitTime", "value": max(0, waited_until - run.accepted_ms)},
        {"key": "kind", "value": action.exec.get("kind")},
        {"key": "limits", "value": dict(action.limits)},
        {"key": "timeout", "value": run.timed_out},
    ]
    if init_ms is not None:
        annotations.append({"key": "initTime", "value": init_ms})
    if run.burst is not None:
        annotations.append({"key": "burst", "value": run.burst})
    return {
        "activationId": run.activation_id,
        "namespace": action.namespace,
        "name": action.name,
        "version": action.version,
        "subject": subject,
        "publish": False,
        "start": start,
        "end": run.end_ms,
        "duration": run.end_ms - start,
        "response": response(run.code, run.result),
        "logs": run.logs,
        "annotations": annotations,
    }


def brief(record: dict[str, Any]) -> dict[str, Any]:
    """The list view without ``docs``: no response or logs, but the status code."""
    view = {k: v for k, v in record.items() if k not in ("response", "logs")}
    view["statusCode"] = record["response"]["statusCode"]
    return view
