"""The activation list: the runner's bulk-polling path."""

from __future__ import annotations

from typing import Any


def test_list_filters_pages_and_docs(platform: Any) -> None:
    platform.put("lister")
    platform.put("other")
    for i in range(5):
        assert platform.invoke("lister", {"n": i}, blocking="true").status_code == 200
    assert platform.invoke("other", {}, blocking="true").status_code == 200
    url = f"{platform.base}/activations"

    mine = platform.http.get(url, params={"name": "lister"}).json()
    assert [r["name"] for r in mine] == ["lister"] * 5
    starts = [r["start"] for r in mine]
    assert starts == sorted(starts, reverse=True)
    assert "response" not in mine[0] and "logs" not in mine[0]
    assert mine[0]["statusCode"] == 0

    docs = platform.http.get(url, params={"name": "lister", "docs": "true"}).json()
    assert [r["activationId"] for r in docs] == [r["activationId"] for r in mine]
    assert [r["response"]["result"]["params"]["n"] for r in docs] == [4, 3, 2, 1, 0]
    assert "logs" in docs[0]

    page = platform.http.get(url, params={"name": "lister", "limit": 2, "skip": 1}).json()
    assert [r["activationId"] for r in page] == [r["activationId"] for r in mine[1:3]]

    since = mine[2]["start"]
    recent = platform.http.get(url, params={"name": "lister", "since": since}).json()
    assert [r["activationId"] for r in recent] == [
        r["activationId"] for r in mine if r["start"] >= since
    ]
    upto = platform.http.get(url, params={"name": "lister", "upto": since}).json()
    assert [r["activationId"] for r in upto] == [
        r["activationId"] for r in mine if r["start"] <= since
    ]

    everything = platform.http.get(url, params={"limit": 200}).json()
    assert {"lister", "other"} <= {r["name"] for r in everything}
    too_many = platform.http.get(url, params={"limit": 201})
    assert too_many.status_code == 400
    assert "error" in too_many.json()
    assert platform.http.get(url, params={"skip": -1}).status_code == 400
    assert platform.http.get(url, params={"since": "yesterday"}).status_code == 400
