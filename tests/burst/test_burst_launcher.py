"""The action loop as the platform sees it: real ``exec`` processes, lines in, fd 3 out."""

from __future__ import annotations

import time

MAP_ACTION = """
import os

calls = []

def main(args):
    calls.append(1)
    if args.get("fail"):
        raise ValueError("asked to fail")
    if args.get("bad"):
        return [1, 2]
    if args.get("exit"):
        raise SystemExit(3)
    print("log line from main")
    return {"echo": args, "calls": len(calls), "pid": os.getpid(),
            "activation": os.environ.get("__OW_ACTIVATION_ID"),
            "namespace": os.environ.get("__OW_NAMESPACE")}
"""


def map_line(value: dict, activation: str = "a1") -> dict:
    deadline = str(int(time.time() * 1000) + 30_000)
    return {
        "value": value,
        "namespace": "guest",
        "action_name": "echo",
        "activation_id": activation,
        "transaction_id": "tx",
        "deadline": deadline,
        "api_key": "k",
    }


def test_map_success_and_warm_reuse(spawn_action) -> None:
    (proc,) = spawn_action(MAP_ACTION)
    proc.send(map_line({"x": 1}, "act-1"))
    first = proc.answer()
    assert first["echo"] == {"x": 1}
    assert first["activation"] == "act-1"
    assert first["namespace"] == "guest"
    assert first["pid"] == proc.pid
    proc.send(map_line({"x": 2}, "act-2"))
    second = proc.answer()
    assert second["calls"] == 2, "module state must survive between warm activations"
    assert second["pid"] == proc.pid
    assert second["activation"] == "act-2"
    assert proc.close() == 0
    assert "log line from main" in proc.log_text()


def test_map_exception_and_non_dict_become_error_answers(spawn_action) -> None:
    (proc,) = spawn_action(MAP_ACTION)
    proc.send(map_line({"fail": True}))
    assert proc.answer() == {"error": "ValueError: asked to fail"}
    proc.send(map_line({"bad": True}))
    assert proc.answer() == {"error": "main must return a dict, got list"}
    proc.send(map_line({"exit": True}))
    assert proc.answer() == {"error": "SystemExit: 3"}
    proc.send(map_line({"x": 3}))
    assert proc.answer()["echo"] == {"x": 3}, "the process stays usable after errors"
    assert proc.close() == 0
    assert "Traceback" in proc.log_text()


def test_wait_for_ack_comes_first(spawn_action) -> None:
    (proc,) = spawn_action(MAP_ACTION, env={"__OW_WAIT_FOR_ACK": "1"})
    assert proc.answer() == {"ok": True}
    proc.send(map_line({"y": 1}))
    assert proc.answer()["echo"] == {"y": 1}


def test_import_error_is_an_activation_error(spawn_action) -> None:
    (proc,) = spawn_action("raise ImportError('missing dependency')\n")
    proc.send(map_line({}))
    assert proc.answer() == {"error": "ImportError: missing dependency"}
    proc.send(map_line({}))
    assert proc.answer() == {"error": "ImportError: missing dependency"}
    assert proc.close() == 0
