"""The OpenWhisk action loop for Python actions: one JSON line in on stdin, one answer out on fd 3.

A line with ``burst_info`` is a burst pack and runs ``main(params, burst)``
once per worker of the pack, in forked processes; any other line is a classic
map activation and runs ``main(params)`` in this process (so module state
stays warm between activations, as on OpenWhisk). A MemoryError ends the
process, as a container at its memory limit would end.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

from .errors import describe
from .pack import run_pack
from .spec import parse_pack_line
from .worker import flush_stdio

ANSWER_FD = 3
# Exit code of a launcher that ran out of memory (as the platform's own Python loop uses).
MEMORY_EXIT_CODE = 70
# Keys of a pack line that describe the burst, not the activation's environment.
BURST_KEYS = frozenset({"value", "burst_info", "middleware", "invoker_id", "debug"})


class ActionLoader:
    """Imports the action module on first use, so an import error becomes an activation error."""

    def __init__(self, module: str, function: str) -> None:
        self._module = module
        self._function = function
        self._main: Callable[..., Any] | None = None

    def main(self) -> Callable[..., Any]:
        if self._main is None:
            module = importlib.import_module(self._module)
            main = getattr(module, self._function, None)
            if not callable(main):
                raise AttributeError(f"module {self._module!r} has no function {self._function!r}")
            self._main = main
        return self._main


def serve(module: str, function: str = "main") -> None:
    """Answer activation lines from stdin until EOF, then return (the process exits 0)."""
    if os.environ.get("__OW_WAIT_FOR_ACK"):
        _answer({"ok": True})
    action = ActionLoader(module, function)
    for raw in sys.stdin.buffer:
        if not raw.strip():
            continue
        try:
            answer = handle_line(raw, action)
        except MemoryError:
            # Like a container at its memory limit: the process ends, and the platform
            # reports that the action exhausted its memory (it reads this line in the logs).
            flush_stdio()
            os.write(2, b"MemoryError: the action exhausted its memory\n")
            os._exit(MEMORY_EXIT_CODE)
        flush_stdio()
        _answer(answer)


def handle_line(raw: bytes, action: ActionLoader) -> Any:
    """Turn one activation line into its answer; raises only MemoryError."""
    try:
        line = json.loads(raw)
        if not isinstance(line, dict):
            raise ValueError(f"an activation line must be a JSON object, got {type(line).__name__}")
        _export_env(line)
        main = action.main()
        if "burst_info" in line:
            return run_pack(parse_pack_line(line), main, child_close_fds=(ANSWER_FD,))
        return _run_map(main, line.get("value", {}))
    except MemoryError:
        raise
    except (Exception, SystemExit) as exc:  # a warm container outlives its actions' failures
        traceback.print_exc()
        return {"error": describe(exc)}


def _run_map(main: Callable[..., Any], params: Any) -> dict[str, Any]:
    try:
        result = main(params)
    except MemoryError:
        raise
    except (Exception, SystemExit) as exc:  # a warm container outlives its actions' failures
        traceback.print_exc()
        return {"error": describe(exc)}
    if not isinstance(result, dict):
        return {"error": f"main must return a dict, got {type(result).__name__}"}
    return result


def _export_env(line: dict[str, Any]) -> None:
    for key, value in line.items():
        if key not in BURST_KEYS:
            text = value if isinstance(value, str) else json.dumps(value)
            os.environ[f"__OW_{key.upper()}"] = text


def _answer(answer: Any) -> None:
    try:
        text = json.dumps(answer)
    except (TypeError, ValueError) as exc:
        text = json.dumps({"error": f"result is not JSON serializable: {exc}"})
    data = memoryview((text + "\n").encode())
    while data:
        data = data[os.write(ANSWER_FD, data) :]
