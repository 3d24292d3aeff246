"""The controller: what each REST operation means, independent of HTTP.

It validates requests against the stores (404, 409, 400 with OpenWhisk's wording),
unpacks deployed code, and hands invocations to the invoker. ``server.py`` only
translates HTTP to these calls and their results or ApiErrors back to HTTP.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from typing import Any

from runner.platform.actions import DEFAULT_LIMITS, Action, check_name, next_version, parse_put
from runner.platform.bursts import backend_type
from runner.platform.cgroups import CgroupTree
from runner.platform.containers import now_ms
from runner.platform.errors import ApiError, not_found
from runner.platform.invoker import BurstOptions, Invoker
from runner.platform.pool import ContainerPool
from runner.platform.records import brief
from runner.platform.runtimes import Runtime, prepare
from runner.platform.settings import Settings
from runner.platform.state import StateFile
from runner.platform.store import ActionStore, ActivationStore, MemoryActivations
from runner.platform.throttles import Throttles


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


def with_exec_annotation(annotations: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """``annotations`` with ``exec`` set to the action's current kind.

    OpenWhisk replaces this annotation on every create and update, whatever the
    request or the previous version said, so it never names a kind the action
    no longer has (clients read it from action lists, which carry no ``exec``).
    """
    kept = [a for a in annotations if a["key"] != "exec"]
    return [*kept, {"key": "exec", "value": kind}]


class Controller:
    """The platform's state (actions, activations, processes) behind the REST operations."""

    def __init__(
        self, settings: Settings, api_host: str, cgroups: CgroupTree | None = None
    ) -> None:
        """``cgroups``: the tree of the containers' memory cgroups; None limits by RLIMIT_DATA."""
        self.settings = settings
        self.state = StateFile(settings.state) if settings.state is not None else None
        self.actions = ActionStore(self.state)
        self.activations: ActivationStore = self.state or MemoryActivations()
        self.throttles = Throttles(settings.invocations_per_minute, settings.concurrent_invocations)
        self.pool = ContainerPool(
            action_env(settings, api_host), settings.max_starting, settings.slots, cgroups
        )
        self.invoker = Invoker(settings, self.pool, self.activations, self.throttles)
        self._revisions = itertools.count(1)

    async def restore(self) -> None:
        """Bring back the actions of the state file (their code is unpacked again)."""
        if self.state is None:
            return
        for saved in self.state.saved_actions():
            record = saved.record
            runtime = await self._prepare(record["exec"], saved.code)
            self.actions.load(self._action(record, saved.code, runtime))

    def check_namespace(self, namespace: str) -> None:
        if namespace not in ("_", self.settings.namespace):
            raise ApiError(
                403, f"The supplied authentication is not authorized to access '{namespace}'."
            )

    def limits(self) -> dict[str, Any]:
        return self.throttles.limits()

    async def put_action(self, name: str, body: Any, overwrite: bool) -> dict[str, Any]:
        check_name(name)
        put = parse_put(body)
        if self.actions.get(name) is not None and not overwrite:
            raise ApiError(409, "resource already exists")
        previous = self.actions.get(name)
        if put.exec is None and previous is None:
            raise ApiError(400, "The request content was malformed: 'exec' is required.")
        if put.exec is not None:
            code = put.exec["code"]
            runtime = await self._prepare(put.exec, code)
            exec_meta = {k: v for k, v in put.exec.items() if k != "code"}
            exec_meta["binary"] = runtime.binary
        else:
            assert previous is not None
            code, runtime, exec_meta = previous.code, previous.runtime, previous.exec
        # Unpacking yielded to other requests: look again before deciding the version.
        previous = self.actions.get(name)
        if previous is not None and not overwrite:
            raise ApiError(409, "resource already exists")
        annotations = put.annotations
        if annotations is None:
            annotations = previous.annotations if previous else []
        record = {
            "namespace": self.settings.namespace,
            "name": name,
            "version": next_version(previous),
            "exec": exec_meta,
            "limits": put.limits or (previous.limits if previous else dict(DEFAULT_LIMITS)),
            "annotations": with_exec_annotation(annotations, exec_meta["kind"]),
            "parameters": put.parameters
            if put.parameters is not None
            else (previous.parameters if previous else []),
            "updated": now_ms(),
        }
        action = self._action(record, code, runtime)
        self.actions.put(action)
        if previous is not None:
            self.pool.retire(previous.path)
        return action.record()

    async def _prepare(self, exec_meta: dict[str, Any], code: str) -> Runtime:
        main = exec_meta.get("main") or "main"
        root = self.settings.workdir / "code"
        return await asyncio.to_thread(prepare, exec_meta["kind"], code, main, root)

    def _action(self, record: dict[str, Any], code: str, runtime: Runtime) -> Action:
        return Action(
            namespace=record["namespace"],
            name=record["name"],
            version=record["version"],
            revision=next(self._revisions),
            exec=record["exec"],
            code=code,
            runtime=runtime,
            limits=record["limits"],
            annotations=record["annotations"],
            parameters=record["parameters"],
            updated=record["updated"],
        )

    def get_action(self, name: str, with_code: bool) -> dict[str, Any]:
        return self._existing(name).record(with_code)

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
        action = self._existing(name)
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
        join: bool,
        backend: str | None,
        chunk_size: int | None,
        debug: bool,
        accepted_ms: int,
    ) -> list[str]:
        action = self._existing(name)
        if action.runtime.own_loop:
            raise ApiError(
                400,
                "Burst invocations need an action whose zip holds an 'exec' with the burst "
                "middleware; this Python action runs map invocations only.",
            )
        values = body.get("value") if isinstance(body, dict) else None
        if not isinstance(values, list) or not values:
            raise ApiError(
                400,
                'A burst invocation needs a body {"value": [params_0, ..., params_N-1]} '
                "with at least one worker.",
            )
        if not all(isinstance(v, dict) for v in values):
            raise ApiError(400, "Every worker's parameters in 'value' must be an object.")
        if not self.invoker.fits(len(values), granularity, join):
            settings = self.settings
            raise ApiError(
                400,
                f"A burst of {len(values)} workers cannot run: all its packs must run at once "
                f"and the platform has {settings.invokers} invoker(s) of {settings.slots} "
                "worker slots (--invokers, --slots).",
            )
        options = BurstOptions(
            granularity,
            join,
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
        if self.state is not None:
            self.state.close()

    def _existing(self, name: str) -> Action:
        action = self.actions.get(name)
        if action is None:
            raise not_found()
        return action
