"""TeraGen-like input and TeraValidate-like checksums, on the driver's side only.

Records follow gensort's layout: a random 10-byte key, then the row id in hex
and filler, so a record that moved or got corrupted changes the checksum.
Generation goes chunk by chunk with one seeded stream per chunk, so memory
stays bounded at cluster sizes and the bytes never depend on the machine.
"""

from __future__ import annotations

import json

import numpy as np

from .. import storage
from .teraformat import KEY_BYTES, RECORD, RECORD_BYTES

RECORDS_PER_MB = 1_000_000 // RECORD_BYTES  # TeraGen counts decimal megabytes of 100-byte rows
CHUNK_RECORDS = 250_000  # 25 MB of records, about 4x that in temporaries
HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
# gensort's separators around the row id and the filler.
AFTER_KEY = np.frombuffer(b"\x00\x11", dtype=np.uint8)
AFTER_ROW = np.frombuffer(b"\x88\x99\xaa\xbb", dtype=np.uint8)
AFTER_FILLER = np.frombuffer(b"\xcc\xdd\xee\xff", dtype=np.uint8)
ROW_DIGITS = 32
FILLER_BYTES = 48
# Fixed odd multipliers, one per 32-bit word of a record: the per-record hash sees positions.
WORD_MULTIPLIERS = np.random.default_rng(0x7E7A).integers(
    1, 2**63, size=RECORD_BYTES // 4, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def records_for(size_mb: int) -> int:
    return size_mb * RECORDS_PER_MB


def _chunk(seed: int, index: int, first_row: int, count: int) -> np.ndarray:
    """Rows [first_row, first_row + count) as a (count, 100) byte matrix."""
    rows = np.arange(first_row, first_row + count, dtype=np.uint64)
    out = np.empty((count, RECORD_BYTES), dtype=np.uint8)
    rng = np.random.default_rng([seed, index])
    out[:, :KEY_BYTES] = rng.integers(0, 256, size=(count, KEY_BYTES), dtype=np.uint8)
    at = KEY_BYTES
    out[:, at:at + 2] = AFTER_KEY
    at += 2
    # Row ids fit in 64 bits: the upper half of gensort's 128-bit hex id stays "0".
    out[:, at:at + ROW_DIGITS // 2] = HEX[0]
    shifts = np.arange(ROW_DIGITS // 2 - 1, -1, -1, dtype=np.uint64) * np.uint64(4)
    out[:, at + ROW_DIGITS // 2:at + ROW_DIGITS] = HEX[(rows[:, None] >> shifts) & np.uint64(15)]
    at += ROW_DIGITS
    out[:, at:at + 4] = AFTER_ROW
    at += 4
    groups = (rows[:, None] + np.arange(FILLER_BYTES // 4, dtype=np.uint64)) % np.uint64(16)
    out[:, at:at + FILLER_BYTES] = np.repeat(HEX[groups], 4, axis=1)
    at += FILLER_BYTES
    out[:, at:] = AFTER_FILLER
    return out


def checksum(records: np.ndarray) -> int:
    """Sum over records of a 64-bit hash of each, mod 2**64: independent of record order."""
    words = records.view(np.uint8).reshape(len(records), RECORD_BYTES).view("<u4")
    mixed = np.zeros(len(records), dtype=np.uint64)
    for column, multiplier in enumerate(WORD_MULTIPLIERS):  # a column at a time: little memory
        mixed += words[:, column] * multiplier
    # splitmix64's finalizer, so that sums of different records cannot cancel out linearly.
    mixed ^= mixed >> np.uint64(30)
    mixed *= np.uint64(0xBF58476D1CE4E5B9)
    mixed ^= mixed >> np.uint64(27)
    mixed *= np.uint64(0x94D049BB133111EB)
    mixed ^= mixed >> np.uint64(31)
    return int(mixed.sum(dtype=np.uint64))


def add_checksums(left: int, right: int) -> int:
    return (left + right) % 2**64


def generate(data: storage.Location, summary: storage.Location, records: int,
             seed: int) -> dict[str, int]:
    """Stores the records and their summary (records and checksum).

    The summary is stored first and the records published whole last, so data
    of the right size always has the summary that belongs to it.
    """
    total = 0
    with storage.staged(data) as path:
        with path.open("wb") as out:
            for index, first in enumerate(range(0, records, CHUNK_RECORDS)):
                chunk = _chunk(seed, index, first, min(CHUNK_RECORDS, records - first))
                total = add_checksums(total, checksum(chunk.reshape(-1).view(RECORD)))
                out.write(chunk.data)
        result = {"records": records, "checksum": total}
        storage.write(summary, json.dumps(result).encode())
    return result


def summary_of(data: storage.Location, summary: storage.Location,
               records: int) -> dict[str, int] | None:
    """The stored summary when the data is complete, else None (generate again)."""
    if storage.size(data) != records * RECORD_BYTES or not storage.exists(summary):
        return None
    return json.loads(storage.read(summary))
