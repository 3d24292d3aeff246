"""Deterministic messages and their digests, shared by the action (in its zip) and the driver.

A message is one fixed pseudo-random 64 KiB block repeated, each repeat XORed
with a key derived from (sender, round, destination, block index). That is
made at memory speed, and differs in every block, so a message that arrives
from the wrong sender or round, at the wrong worker, or with blocks out of
order has another CRC. Word i of the block is splitmix64 folded over (seed, i),
so the app's Rust action (rust_burst/src/messages.rs) makes the same bytes.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

import numpy as np

BLOCK_BYTES = 64 * 1024
# Destination of a message meant for everyone (broadcast, reductions).
EVERYONE = -1
_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_SEED = 0x5EED


def _scramble(state: Any) -> Any:
    """splitmix64's output function; on Python ints (masked) or uint64 arrays (wrapping)."""
    state = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    state = ((state ^ (state >> 27)) * 0x94D049BB133111EB) & _MASK
    return state ^ (state >> 31)


def _mix(*parts: int) -> int:
    """splitmix64 folded over small integers: a well-spread 64-bit key for each tuple."""
    state = 0
    for part in parts:
        state = _scramble((state + (part & _MASK) + _GOLDEN) & _MASK)
    return state


def _base_block() -> np.ndarray:
    """Word i is ``_mix(_SEED, i)``, computed for all words at once (uint64 arithmetic wraps)."""
    first = _mix(_SEED)
    words = np.arange(BLOCK_BYTES // 8, dtype=np.uint64) + np.uint64((first + _GOLDEN) & _MASK)
    return _scramble(words)


_BASE = _base_block()


def message(
    nbytes: int, sender: int, round_: int, dest: int = EVERYONE, out: np.ndarray | None = None
) -> np.ndarray:
    """``nbytes`` bytes (uint8) that only ``(sender, round_, dest)`` produce.

    ``out`` (from ``blank``) is filled instead of a new array: reusing memory
    spares the page faults that would otherwise dominate making messages.
    """
    words = blank(nbytes) if out is None else out
    steps = np.arange(len(words), dtype=np.uint64) * np.uint64(_GOLDEN)  # wraps, as intended
    keys = steps + np.uint64(_mix(sender, round_, dest))
    np.bitwise_xor(_BASE[np.newaxis, :], keys[:, np.newaxis], out=words)
    return words.reshape(-1).view(np.uint8)[:nbytes]


def blank(nbytes: int) -> np.ndarray:
    """Uninitialised room for one message of ``nbytes`` (whole blocks of uint64 words)."""
    return np.empty((-(-nbytes // BLOCK_BYTES), BLOCK_BYTES // 8), dtype=np.uint64)


def add_words(left: Any, right: Any) -> np.ndarray:
    """The reduction of the benchmark: element-wise uint64 sum, wrapping (associative)."""
    return np.frombuffer(left, dtype=np.uint64) + np.frombuffer(right, dtype=np.uint64)


def crc(chunks: Iterable[Any], start: int = 0) -> int:
    """CRC-32 of the chunks' bytes one after the other, continuing from ``start``.

    CRC-32 runs at several GB/s, so checking every byte of every round costs
    the workers and the driver little next to the operation itself.
    """
    for chunk in chunks:
        start = zlib.crc32(chunk, start)
    return start
