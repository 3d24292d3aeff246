"""TeraSort's record format and the data layout that the driver, the action and the check share.

Shipped inside the action zip as a top-level module, so it imports nothing
from the project: both sides must read, bucket and sort records identically.
Layout paths are names under the storage root (see ow_apps/storage.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

KEY_BYTES = 10
RECORD_BYTES = 100
# Keys as fixed-width bytes: NumPy compares and sorts them like memcmp, as TeraSort does.
RECORD = np.dtype([("key", f"S{KEY_BYTES}"), ("value", f"V{RECORD_BYTES - KEY_BYTES}")])


def decode_boundaries(hex_keys: list[str]) -> np.ndarray:
    """Boundaries travel in JSON payloads as hex strings; back to comparable keys."""
    return np.array([bytes.fromhex(key) for key in hex_keys], dtype=RECORD["key"])


def group_by_destination(records: np.ndarray, boundaries: np.ndarray) -> list[np.ndarray]:
    """One contiguous run of records per reducer; run r holds keys in [b[r-1], b[r])."""
    # Smallest integer type: NumPy's stable sort of 8/16-bit ids is a radix sort.
    narrow = np.min_scalar_type(len(boundaries))
    destination = np.searchsorted(boundaries, records["key"], side="right").astype(narrow)
    grouped = records[np.argsort(destination, kind="stable")]
    ends = np.cumsum(np.bincount(destination, minlength=len(boundaries) + 1))
    return np.split(grouped, ends[:-1])


def sort_by_key(records: np.ndarray) -> np.ndarray:
    return records[np.argsort(records["key"])]


def shuffle_dir(scratch: str | Path) -> Path:
    """Map mode's intermediate objects, removed once the reducers have read them."""
    return Path(scratch) / "shuffle"


def shuffle_path(scratch: str | Path, mapper: int, reducer: int) -> Path:
    """Map mode's intermediate object: what `mapper` sends to `reducer`."""
    return shuffle_dir(scratch) / f"m{mapper:05d}-r{reducer:05d}.bin"


def part_path(scratch: str | Path, reducer: int) -> Path:
    """Output part `reducer`; parts in reducer order form the whole sorted output."""
    return Path(scratch) / "output" / f"part-{reducer:05d}.bin"
