"""A live one-line progress report while waiting, shown only on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

REFRESH_S = 0.2


class Progress:
    def __init__(self, stage: str, stream: TextIO = sys.stderr):
        self.stage = stage
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self.shown = 0.0

    def update(self, done: int, total: int, failed: int, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not final and now - self.shown < REFRESH_S:
            return
        self.shown = now
        line = (f"\r{self.stage}: {done}/{total} activations done, {failed} failed, "
                f"{now - self.started:.1f} s")
        self.stream.write(line + ("\n" if final else ""))
        self.stream.flush()
