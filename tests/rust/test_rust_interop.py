"""The Rust and Python middlewares speak one wire: a Python pack and a Rust pack of one burst
exchange messages through each backend, both ways, chunked and not."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.burst import ActionProcess, build_action, pack_lines
from tests.rust.conftest import backend

SIZES = [0, 10, 65536, 65537, 3 << 20]

PYTHON_WORKER = """
def main(args, burst):
    answers = []
    for size in args["sizes"]:
        sent = bytes((i * 31 + size) % 251 for i in range(size))
        burst.send(1, sent)
        back = burst.recv(1)
        answers.append(bytes(back) == sent[::-1])
    return {"worker_id": burst.worker_id, "reversed": answers}
"""


@pytest.mark.parametrize(("kind", "chunk_kb"), [("local", None), ("redis", None), ("redis", 64)])
def test_a_python_worker_and_a_rust_worker_exchange_messages(
        kind, chunk_kb, rust_action, tmp_path: Path, local_dir, redis_uri):
    python_pack = ActionProcess(build_action(tmp_path / "python", PYTHON_WORKER))
    rust_pack = ActionProcess(rust_action("probe"))
    try:
        params = [{"sizes": SIZES}, {"script": "echo", "peer": 0, "count": len(SIZES)}]
        lines = pack_lines(params, 1, backend(kind, local_dir, redis_uri),
                           f"interop-{kind}-{chunk_kb}", 30.0, chunk_kb)
        python_pack.send(lines[0])
        rust_pack.send(lines[1])
        (python_envelope,) = python_pack.answer(40)
        (rust_envelope,) = rust_pack.answer(40)
    finally:
        python_pack.close()
        rust_pack.close()
    assert rust_envelope["error"] is None, rust_envelope
    assert rust_envelope["result"]["lengths"] == SIZES  # Python to Rust, every byte count
    assert python_envelope["error"] is None, python_envelope
    assert python_envelope["result"]["reversed"] == [True] * len(SIZES)  # and back
