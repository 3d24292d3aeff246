"""``--state FILE``: actions and activations in SQLite, so a restarted platform answers for them.

Activations are read from the file on demand (a long-lived state file is never
loaded whole); actions are few and are reloaded, code included, at start.
Writes go into one open transaction that is committed at most every
``COMMIT_EVERY_S`` (and at exit): a commit per activation would cost more
than the activation itself, and reads on the same connection see uncommitted
rows anyway. WAL mode with ``synchronous=NORMAL`` keeps commits cheap; what a
crash (not a clean stop) can lose is the last fraction of a second.

Accepted activations are kept too, each with the record it gets should the
platform die before it ends; a platform restarted after a crash (SIGKILL, a
power cut) stores those records, so a client asking for them learns what
happened instead of waiting forever.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.platform.actions import Action

COMMIT_EVERY_S = 0.2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS actions (
    name TEXT PRIMARY KEY, record TEXT NOT NULL, code TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS activations (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    start INTEGER NOT NULL, record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS activations_by_start ON activations (start, seq);
CREATE INDEX IF NOT EXISTS activations_by_name ON activations (name, start, seq);
CREATE TABLE IF NOT EXISTS running (id TEXT PRIMARY KEY, record TEXT NOT NULL);
"""


@dataclass(frozen=True)
class SavedAction:
    """An action as stored: its record (without code) and its code."""

    record: dict[str, Any]
    code: str


class StateFile:
    """The SQLite file: an activation store (``add``/``get``/``query``) and an action journal."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._commit_timer: asyncio.TimerHandle | None = None
        self._end_cut_off()

    def _end_cut_off(self) -> None:
        """Stores the records of activations that were running when the platform died.

        They end now, as far as anyone can tell, as those of a clean stop end at the stop.
        """
        now = int(time.time() * 1000)
        for (text,) in self._db.execute("SELECT record FROM running").fetchall():
            record = {**json.loads(text), "start": now, "end": now, "duration": 0}
            self._insert(record)
        self._db.execute("DELETE FROM running")
        self._db.commit()

    def saved_actions(self) -> list[SavedAction]:
        rows = self._db.execute("SELECT record, code FROM actions ORDER BY name")
        return [SavedAction(json.loads(record), code) for record, code in rows]

    def save_action(self, action: Action) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO actions (name, record, code) VALUES (?, ?, ?)",
            (action.name, json.dumps(action.record()), action.code),
        )
        self._commit_soon()

    def delete_action(self, name: str) -> None:
        self._db.execute("DELETE FROM actions WHERE name = ?", (name,))
        self._commit_soon()

    def add(self, record: dict[str, Any]) -> None:
        self._insert(record)
        self._db.execute("DELETE FROM running WHERE id = ?", (record["activationId"],))
        self._commit_soon()

    def running(self, record: dict[str, Any]) -> None:
        self._db.execute("INSERT OR REPLACE INTO running (id, record) VALUES (?, ?)",
                         (record["activationId"], json.dumps(record)))
        self._commit_soon()

    def _insert(self, record: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO activations (id, name, start, record) VALUES (?, ?, ?, ?)",
            (record["activationId"], record["name"], record["start"], json.dumps(record)),
        )

    def get(self, activation_id: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT record FROM activations WHERE id = ?", (activation_id,)
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def query(
        self, name: str | None, since: int | None, upto: int | None, limit: int, skip: int
    ) -> list[dict[str, Any]]:
        """Newest first by start, with since <= start <= upto, then skip and limit."""
        conditions = ["start >= ?", "start <= ?"]
        values: list[Any] = [since or 0, 2**62 if upto is None else upto]
        if name is not None:
            conditions.append("name = ?")
            values.append(name)
        rows = self._db.execute(
            f"SELECT record FROM activations WHERE {' AND '.join(conditions)} "
            "ORDER BY start DESC, seq DESC LIMIT ? OFFSET ?",
            (*values, limit, skip),
        )
        return [json.loads(record) for (record,) in rows]

    def _commit_soon(self) -> None:
        if self._commit_timer is None:
            loop = asyncio.get_running_loop()
            self._commit_timer = loop.call_later(COMMIT_EVERY_S, self._commit)

    def _commit(self) -> None:
        self._commit_timer = None
        self._db.commit()

    def close(self) -> None:
        if self._commit_timer is not None:
            self._commit_timer.cancel()
        self._db.commit()
        self._db.close()
