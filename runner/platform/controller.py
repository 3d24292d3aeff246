"""The controller: what each REST operation means, independent of HTTP.

It validates requests against the stores (404, 409, 400 with OpenWhisk's wording),
unpacks deployed code, and hands invocations to the invoker. ``server.py`` only
translates HTTP to these calls and their results or ApiErrors back to HTTP.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from runner.platform.actions import DEFAULT_LIMITS, Action, check_name, next_version, parse_put
from runner.platform.artifacts import decode_zip, unpack
from runner.platform.bursts import backend_type
from runner.platform.containers import ContainerPool, now_ms
from runner.platform.errors import ApiError, not_found
from runner.platform.invoker import BurstOptions, Invoker
from runner.platform.records import brief
from runner.platform.settings import Settings
from runner.platform.store import ActionStore, ActivationStore


def action_env(settings: Settings, api_host: str) -> dict[str, str]:
    """Environment of every action process.

    Our interpreter's directory goes first on PATH so ``#!/usr/bin/env python3``
    scripts run with the same Python (and packages) as the platform.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        part for part in (os.path.dirname(sys.executable), env.get("PATH")) if part
    )
    env["__OW_API_HOST"] = api_host
    env["__OW_NAMESPACE"] = settings.namespace
    return env


class Controller:
    """The platform's state (actions, activations, processes) behind the REST operations."""

    def __init__(self, settings: Settings, api_host: str) -> None:
        self.settings = settings
        self.actions = ActionStore()
        self.activations = ActivationStore()
        self.pool = ContainerPool(
            action_env(settings, api_host), settings.max_starting, settings.slots
        )
        self.invoker = Invoker(settings, self.pool, self.activations)

    def check_namespace(self, namespace: str) -> None:
        if namespace not in ("_", self.settings.namespace):
            raise ApiError(
                403, f"The supplied authentication is not authorized to access '{namespace}'."
            )

    async def put_action(self, name: str, body: Any, overwrite: bool) -> dict[str, Any]:
        check_name(name)
        put = parse_put(body)
        if self.actions.get(name) is not None and not overwrite:
            raise ApiError(409, "resource already exists")
        previous = self.actions.get(name)
        if put.exec is None and previous is None:
            raise ApiError(400, "The request content was malformed: 'exec' is required.")
        if put.exec is not None:
            data = decode_zip(put.exec["code"])
            if data is None:
                raise ApiError(
                    400,
                    "The embedded platform runs zip actions only: 'exec.code' must be a base64 "
                    "zip whose root holds an executable 'exec'.",
                )
            code_dir = await asyncio.to_thread(unpack, data, self.settings.workdir / "code")
            code = put.exec["code"]
            exec_meta = {k: v for k, v in put.exec.items() if k != "code"} | {"binary": True}
        else:
            assert previous is not None
            code, code_dir, exec_meta = previous.code, previous.code_dir, previous.exec
        # Unpacking yielded to other requests: look again before deciding the version.
        previous = self.actions.get(name)
        if previous is not None and not overwrite:
            raise ApiError(409, "resource already exists")
        annotations = put.annotations
        if annotations is None:
            annotations = previous.annotations if previous else []
        if not any(a["key"] == "exec" for a in annotations):
            annotations = [*annotations, {"key": "exec", "value": exec_meta["kind"]}]
        action = Action(
            namespace=self.settings.namespace,
            name=name,
            version=next_version(previous),
            exec=exec_meta,
            code=code,
            code_dir=code_dir,
            limits=put.limits or (previous.limits if previous else dict(DEFAULT_LIMITS)),
            annotations=annotations,
            parameters=put.parameters
            if put.parameters is not None
            else (previous.parameters if previous else []),
            updated=now_ms(),
        )
        self.actions.put(action)
        if previous is not None:
            self.pool.retire(previous.path)
        return action.record()

    def get_action(self, name: str, with_code: bool) -> dict[str, Any]:
        return self._action(name).record(with_code)

    def delete_action(self, name: str) -> dict[str, Any]:
        action = self.actions.delete(name)
        if action is None:
            raise not_found()
        self.pool.retire(action.path)
        return action.record()

    def list_actions(self, limit: int, skip: int) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in a.record().items() if k != "parameters"}
            for a in self.actions.page(limit, skip)
        ]

    def invoke(self, name: str, params: Any, accepted_ms: int) -> str:
        action = self._action(name)
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ApiError(400, "The request content was malformed: parameters must be an object.")
        return self.invoker.invoke(action, {**action.defaults(), **params}, accepted_ms)

    def invoke_burst(
        self,
        name: str,
        body: Any,
        granularity: int | None,
        backend: str | None,
        chunk_size: int | None,
        debug: bool,
        accepted_ms: int,
    ) -> list[str]:
        action = self._action(name)
        values = body.get("value") if isinstance(body, dict) else None
        if not isinstance(values, list) or not values:
            raise ApiError(
                400,
                'A burst invocation needs a body {"value": [params_0, ..., params_N-1]} '
                "with at least one worker.",
            )
        if not all(isinstance(v, dict) for v in values):
            raise ApiError(400, "Every worker's parameters in 'value' must be an object.")
        total = self.invoker.slots.total
        if len(values) > total:
            raise ApiError(
                400,
                f"A burst of {len(values)} workers cannot run: all its packs must run at once "
                f"and the platform has {total} worker slots (--slots).",
            )
        options = BurstOptions(
            granularity,
            backend_type(backend or self.settings.burst_backend, self.settings.backend_uri),
            chunk_size,
            debug,
        )
        defaults = action.defaults()
        merged = [{**defaults, **v} for v in values]
        return self.invoker.invoke_burst(action, merged, options, accepted_ms)

    def activation(self, activation_id: str) -> dict[str, Any]:
        record = self.activations.get(activation_id)
        if record is None:
            raise not_found()
        return record

    def list_activations(
        self,
        name: str | None,
        since: int | None,
        upto: int | None,
        limit: int,
        skip: int,
        docs: bool,
    ) -> list[dict[str, Any]]:
        records = self.activations.query(name, since, upto, limit, skip)
        return records if docs else [brief(r) for r in records]

    async def close(self) -> None:
        """Kill every action process first (no orphans even if the rest fails), then tidy up."""
        self.pool.shutdown()
        await self.invoker.close()
        self.pool.shutdown()

    def _action(self, name: str) -> Action:
        action = self.actions.get(name)
        if action is None:
            raise not_found()
        return action
