"""In-memory stores: the current version of each action, and finished activations.

Activations are indexed by start time (globally and per action name) so the
list API, which the runner polls in bulk, costs O(log n + limit) per request
instead of sorting every stored record. ``state.StateFile`` keeps both in a
SQLite file instead, when the platform runs with ``--state``.
"""

from __future__ import annotations

import bisect
import itertools
from typing import Any, Protocol

from runner.platform.actions import Action

# (start ms, insertion sequence, activation id): the sequence breaks ties so keys are unique.
_IndexKey = tuple[int, int, str]


class ActionJournal(Protocol):
    """Where action changes are also written, to survive a restart."""

    def save_action(self, action: Action) -> None: ...

    def delete_action(self, name: str) -> None: ...


class ActivationStore(Protocol):
    """Finished activation records: by id, and pages newest first by start."""

    def add(self, record: dict[str, Any]) -> None: ...

    def running(self, record: dict[str, Any]) -> None:
        """An accepted activation, with the record it gets should the platform die first."""

    def get(self, activation_id: str) -> dict[str, Any] | None: ...

    def query(
        self, name: str | None, since: int | None, upto: int | None, limit: int, skip: int
    ) -> list[dict[str, Any]]: ...


class ActionStore:
    """The current version of every action of the namespace."""

    def __init__(self, journal: ActionJournal | None = None) -> None:
        self._actions: dict[str, Action] = {}
        self._journal = journal

    def get(self, name: str) -> Action | None:
        return self._actions.get(name)

    def put(self, action: Action) -> None:
        self._actions[action.name] = action
        if self._journal is not None:
            self._journal.save_action(action)

    def load(self, action: Action) -> None:
        """An action read back from the journal (not written to it again)."""
        self._actions[action.name] = action

    def delete(self, name: str) -> Action | None:
        action = self._actions.pop(name, None)
        if action is not None and self._journal is not None:
            self._journal.delete_action(name)
        return action

    def page(self, limit: int, skip: int) -> list[Action]:
        """Most recently updated first, like ``wsk action list``."""
        ordered = sorted(self._actions.values(), key=lambda a: a.updated, reverse=True)
        return ordered[skip : skip + limit]


class MemoryActivations:
    """Finished activation records in memory, by id and by start time."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, Any]] = {}
        self._all: list[_IndexKey] = []
        self._by_name: dict[str, list[_IndexKey]] = {}
        self._sequence = itertools.count()

    def add(self, record: dict[str, Any]) -> None:
        key = (record["start"], next(self._sequence), record["activationId"])
        self._records[record["activationId"]] = record
        # Records arrive roughly in start order, so insort mostly appends.
        bisect.insort(self._all, key)
        bisect.insort(self._by_name.setdefault(record["name"], []), key)

    def running(self, record: dict[str, Any]) -> None:
        """Nothing to keep: activations in memory end with the platform, whatever happens."""

    def get(self, activation_id: str) -> dict[str, Any] | None:
        return self._records.get(activation_id)

    def query(
        self, name: str | None, since: int | None, upto: int | None, limit: int, skip: int
    ) -> list[dict[str, Any]]:
        """Newest first by start, with since <= start <= upto, then skip and limit."""
        index = self._all if name is None else self._by_name.get(name, [])
        low = 0 if since is None else bisect.bisect_left(index, (since, -1))
        high = len(index) if upto is None else bisect.bisect_right(index, (upto, float("inf")))
        newest = high - skip
        oldest = max(low, newest - limit)
        return [self._records[index[i][2]] for i in range(newest - 1, oldest - 1, -1)]
