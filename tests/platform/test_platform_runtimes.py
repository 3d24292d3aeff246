"""Python actions as OpenWhisk's Python runtime takes them: source text or a __main__.py zip."""

from __future__ import annotations

from typing import Any

import requests

SOURCE = """
import os

def main(args):
    print("hello from", args.get("name"))
    return {"greeting": "hi " + args.get("name", "nobody"),
            "activation": os.environ["__OW_ACTIVATION_ID"], "pid": os.getpid()}
"""


def _put(platform: Any, name: str, **exec_fields: Any) -> requests.Response:
    body = {"exec": {"kind": "python:3", **exec_fields}}
    return platform.http.put(f"{platform.base}/actions/{name}?overwrite=true", json=body)


def test_source_text_runs_warm_with_its_logs(platform: Any) -> None:
    created = _put(platform, "py-source", code=SOURCE)
    assert created.status_code == 200, created.text
    assert created.json()["exec"] == {"kind": "python:3", "binary": False}
    first = platform.invoke("py-source", {"name": "ada"}, blocking="true").json()
    second = platform.invoke("py-source", {"name": "bob"}, blocking="true").json()
    assert first["response"]["result"]["greeting"] == "hi ada"
    assert first["response"]["result"]["activation"] == first["activationId"]
    assert first["logs"][0].endswith("stdout: hello from ada")
    assert "initTime" in platform.notes(first) and "initTime" not in platform.notes(second)
    assert second["response"]["result"]["pid"] == first["response"]["result"]["pid"]


def test_kinds_versions_and_main(platform: Any) -> None:
    code = "def handler(args):\n    return {'n': args['n'] * 2}\n"
    assert _put(platform, "py-handler", code=code, main="handler").status_code == 200
    answer = platform.invoke("py-handler", {"n": 21}, blocking="true", result="true")
    assert answer.json() == {"n": 42}
    versioned = {"exec": {"kind": "python:3.11", "code": code, "main": "handler"}}
    url = f"{platform.base}/actions/py-versioned?overwrite=true"
    assert platform.http.put(url, json=versioned).status_code == 200
    node = {"exec": {"kind": "nodejs:20", "code": "function main() {}"}}
    refused = platform.http.put(f"{platform.base}/actions/node", json=node)
    assert refused.status_code == 400
    assert "nodejs:20" in refused.json()["error"]


def test_zip_with_main_module_helpers_and_virtualenv(platform: Any) -> None:
    code = platform.make_zip(
        {
            "__main__.py": "import helper, vendored\n\ndef main(args):\n"
            "    return {'value': helper.twice(vendored.BASE)}\n",
            "helper.py": "def twice(x):\n    return 2 * x\n",
            "virtualenv/lib/python3.11/site-packages/vendored.py": "BASE = 21\n",
        }
    )
    created = _put(platform, "py-zip", code=code, binary=True)
    assert created.status_code == 200, created.text
    assert created.json()["exec"]["binary"] is True
    answer = platform.invoke("py-zip", {}, blocking="true", result="true")
    assert answer.json() == {"value": 42}


def test_failures_of_python_actions(platform: Any) -> None:
    raising = "def main(args):\n    raise ValueError('bad input')\n"
    assert _put(platform, "py-raises", code=raising).status_code == 200
    failed = platform.invoke("py-raises", {}, blocking="true")
    assert failed.status_code == 502
    assert failed.json()["response"]["status"] == "application error"
    assert failed.json()["response"]["result"] == {"error": "bad input"}
    assert any("ValueError: bad input" in line for line in failed.json()["logs"])

    broken = "import no_such_module\n\ndef main(args):\n    return {}\n"
    assert _put(platform, "py-broken", code=broken).status_code == 200
    record = platform.invoke("py-broken", {}, blocking="true").json()
    assert record["response"]["status"] == "action developer error"
    assert record["response"]["result"]["error"].startswith(
        "The action did not initialize and exited unexpectedly"
    )
    assert any("No module named 'no_such_module'" in line for line in record["logs"])

    hungry = "def main(args):\n    return {'n': len(bytearray(1 << 40))}\n"
    assert _put(platform, "py-hungry", code=hungry).status_code == 200
    died = platform.invoke("py-hungry", {}, blocking="true").json()["response"]
    assert died["result"] == {"error": "The action exhausted its memory and was aborted."}

    no_main = _put(platform, "py-zip-bad", code=platform.make_zip({"other.py": ""}))
    assert no_main.status_code == 400
    assert "'__main__.py'" in no_main.json()["error"]
    assert _put(platform, "py-for-burst", code=SOURCE).status_code == 200
    burst = platform.invoke("py-for-burst", {"value": [{}]}, burst="true")
    assert burst.status_code == 400
    assert "map invocations only" in burst.json()["error"]
