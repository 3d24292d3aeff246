"""Whatever JSON or query a client sends, the answer is a JSON error or success, never a 500."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
put_bodies = st.fixed_dictionaries(
    {},
    optional={
        "exec": json_values | st.fixed_dictionaries({"kind": json_values, "code": json_values}),
        "limits": json_values
        | st.dictionaries(st.sampled_from(["timeout", "memory"]), json_values),
        "annotations": json_values,
        "parameters": json_values,
    },
)
query_values = st.sampled_from(["", "true", "false", "0", "-1", "3", "x", "201", "1e3"])
checked = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _assert_json_error_or_ok(response: Any) -> None:
    assert response.status_code < 500, response.text
    assert isinstance(response.json(), (dict, list))
    if response.status_code >= 400:
        assert isinstance(response.json()["error"], str)


@checked
@given(body=put_bodies)
def test_put_never_fails_inside(platform: Any, body: dict[str, Any]) -> None:
    response = platform.http.put(f"{platform.base}/actions/fuzzed", json=body)
    assert response.status_code == 400, response.text
    assert isinstance(response.json()["error"], str)


@checked
@given(
    body=json_values,
    burst=st.booleans(),
    query=st.dictionaries(
        st.sampled_from(
            ["blocking", "result", "timeout", "granularity", "chunk_size", "backend", "debug"]
        ),
        query_values,
    ),
)
def test_invoke_never_fails_inside(platform: Any, body: Any, burst: bool, query: dict) -> None:
    if platform.http.get(f"{platform.base}/actions/fuzz-target").status_code == 404:
        platform.put("fuzz-target")
    if burst:
        query["burst"] = "true"
    query["timeout"] = "2000"
    response = platform.http.post(f"{platform.base}/actions/fuzz-target", json=body, params=query)
    _assert_json_error_or_ok(response)


@checked
@given(
    st.dictionaries(
        st.sampled_from(["name", "since", "upto", "limit", "skip", "docs"]), query_values
    )
)
def test_activation_list_never_fails_inside(platform: Any, query: dict[str, str]) -> None:
    _assert_json_error_or_ok(platform.http.get(f"{platform.base}/activations", params=query))
