"""The platform's action loop for Python actions given as source text or a ``__main__.py`` zip.

The platform runs ``python pyloop.py MAIN_FILE FUNCTION`` in the action's
directory. Like OpenWhisk's Python runtime, it imports MAIN_FILE (with the
zip's ``virtualenv/`` packages on the path, if any), acknowledges with
``{"ok": true}`` on fd 3, then answers each JSON line of stdin with
``FUNCTION(value)`` as one JSON line on fd 3; the line's other keys become
``__OW_<KEY>`` environment variables. An import error ends the process before
the acknowledgement, which the platform reports as a failed initialization.

Only the standard library is imported here (never the platform): a cold start
costs the interpreter and the action's own imports, nothing more.

A MemoryError ends the process: the platform reports it as the action having
exhausted its memory, as OpenWhisk does when a container hits its limit.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable
from typing import Any

ANSWER_FD = 3
MEMORY_EXIT_CODE = 70


def load(path: str, function: str) -> Callable[[Any], Any]:
    """Import ``path`` as module ``main__`` and return its ``function``."""
    directory = os.path.dirname(os.path.abspath(path))
    lib = os.path.join(directory, "virtualenv", "lib")
    versions = sorted(os.listdir(lib)) if os.path.isdir(lib) else []
    packages = [os.path.join(lib, v, "site-packages") for v in versions if v.startswith("python3")]
    sys.path[:0] = [directory, *packages]
    spec = importlib.util.spec_from_file_location("main__", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["main__"] = module
    spec.loader.exec_module(module)
    main = getattr(module, function, None)
    if not callable(main):
        raise AttributeError(f"the action has no function named {function!r}")
    return main


def run(main: Callable[[Any], Any], line: dict[str, Any]) -> Any:
    """One activation: export the line's context, call ``main``, never raise (but MemoryError)."""
    for key, value in line.items():
        if key != "value":
            text = value if isinstance(value, str) else json.dumps(value)
            os.environ[f"__OW_{key.upper()}"] = text
    try:
        return main(line.get("value", {}))
    except MemoryError:
        raise
    except Exception as exc:  # a warm process outlives its activations' failures
        import traceback

        traceback.print_exc()
        return {"error": str(exc)}


def encode(result: Any) -> bytes:
    try:
        text = json.dumps(result, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        text = json.dumps({"error": f"The action returned a value that is not JSON: {exc}"})
    return text.encode() + b"\n"


def serve(answers: Any, main: Callable[[Any], Any]) -> None:
    if os.environ.get("__OW_WAIT_FOR_ACK"):
        answers.write(b'{"ok": true}\n')
        answers.flush()
    for raw in sys.stdin.buffer:
        if not raw.strip():
            continue
        answer = encode(run(main, json.loads(raw)))
        sys.stdout.flush()
        sys.stderr.flush()
        answers.write(answer)
        answers.flush()


def entry() -> None:
    answers = os.fdopen(ANSWER_FD, "wb")
    try:
        serve(answers, load(sys.argv[1], sys.argv[2]))
    except MemoryError:
        sys.stderr.write("MemoryError: the action exhausted its memory\n")
        sys.stderr.flush()
        os._exit(MEMORY_EXIT_CODE)


if __name__ == "__main__":
    entry()
