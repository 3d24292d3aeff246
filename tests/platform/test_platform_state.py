"""``--state FILE``: a restarted platform still has its actions and answers for past activations."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def test_restart_keeps_actions_and_activations(
    platform_factory: Callable[..., Any], tmp_path: Path
) -> None:
    state = tmp_path / "state" / "platform.db"
    first = platform_factory("--state", str(state))
    assert first.put("kept", parameters=[{"key": "p", "value": 1}]).status_code == 200
    ok = first.invoke("kept", {"n": 1}, blocking="true").json()
    failed = first.invoke("kept", {"error": "boom"}, blocking="true").json()
    packs = first.invoke("kept", {"value": [{}, {}]}, burst="true", granularity="1").json()
    pack_records = [first.activation(i) for i in packs["activationIds"]]
    in_flight = first.invoke("kept", {"sleep": 30}).json()["activationId"]
    time.sleep(0.5)
    assert first.stop() == 0

    second = platform_factory("--state", str(state))
    action = second.http.get(f"{second.base}/actions/kept").json()
    assert (action["version"], action["parameters"]) == ("0.0.1", [{"key": "p", "value": 1}])
    assert second.activation(ok["activationId"], timeout=1) == ok
    assert second.activation(failed["activationId"], timeout=1)["response"]["status"] == (
        "application error"
    )
    assert [second.activation(r["activationId"], timeout=1) for r in pack_records] == pack_records
    stopped = second.activation(in_flight, timeout=1)
    assert stopped["response"]["status"] == "whisk internal error"
    assert stopped["response"]["result"] == {
        "error": "The platform stopped before the activation ended."
    }
    listed = second.http.get(f"{second.base}/activations", params={"name": "kept"}).json()
    assert {r["activationId"] for r in listed} == {
        ok["activationId"], failed["activationId"], in_flight,
        *(r["activationId"] for r in pack_records),
    }
    # The code came back too: the action runs, and updates continue its versions.
    again = second.invoke("kept", {"n": 2}, blocking="true").json()
    assert again["response"]["result"]["params"] == {"p": 1, "n": 2}
    assert second.put("kept").json()["version"] == "0.0.2"
    assert second.http.delete(f"{second.base}/actions/kept").status_code == 200
    assert second.stop() == 0

    third = platform_factory("--state", str(state))
    assert third.http.get(f"{third.base}/actions/kept").status_code == 404
    assert third.activation(again["activationId"], timeout=1) == again
