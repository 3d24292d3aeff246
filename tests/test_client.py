"""The client against a playback server: exact requests, throttling, errors.

The embedded platform covers the happy path over real HTTP elsewhere; this
server plays back what only a real cluster does (429 storms, 401, gateway
errors) and records every request the client sent.
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import threading
from http.server import ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest

from runner.client.openwhisk import BurstOptions, OpenWhiskClient, OpenWhiskError
from tests.helpers.json_server import JsonHandler, serve

THROTTLED = {"error": "Too many requests in the last minute (count: 61, allowed: 60).",
             "code": 4242}


class Playback:
    """Answers from a script: a list of (status, body) per request, then a default."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict]] = []
        self.default: tuple[int, dict] = (202, {"activationId": "a" * 32})
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    def answer(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict]:
        with self.lock:
            url = urlparse(path)
            self.requests.append({
                "method": method, "host": url.netloc, "path": url.path,
                "query": parse_qs(url.query),
                "auth": headers.get("Authorization"),
                "body": json.loads(body) if body else None,
            })
            return self.script.pop(0) if self.script else self.default


@pytest.fixture
def playback():
    state = Playback()

    class Handler(JsonHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, body = state.answer(self.command, self.path, self.headers,
                                        self.rfile.read(length))
            self.reply(status, body)

        do_GET = do_POST = do_PUT = _serve

    server, state.url = serve(Handler)
    state.handler = Handler
    yield state
    server.shutdown()


def client_for(playback: Playback, **kwargs) -> OpenWhiskClient:
    return OpenWhiskClient(playback.url, "user-uuid:secret-key", **kwargs)


def test_burst_invocation_sends_the_fork_parameters(playback):
    playback.default = (202, {"activationIds": ["p0", "p1"]})
    client = client_for(playback)
    options = BurstOptions(granularity=4, join=True, backend="redis", chunk_size=1024)
    ids = client.invoke_burst("kmeans", [{"x": 1}, {"x": 2}], options)
    assert ids == ["p0", "p1"]
    [request] = playback.requests
    assert request["method"] == "POST"
    assert request["path"] == "/api/v1/namespaces/_/actions/kmeans"
    assert request["query"] == {"burst": ["true"], "granularity": ["4"], "join": ["true"],
                                "backend": ["redis"], "chunk_size": ["1024"], "debug": ["false"]}
    assert request["body"] == {"value": [{"x": 1}, {"x": 2}]}
    assert request["auth"] == "Basic dXNlci11dWlkOnNlY3JldC1rZXk="  # user-uuid:secret-key


def test_throttled_invocations_are_retried_until_accepted_once(playback):
    playback.script = [(429, THROTTLED)] * 5
    client = client_for(playback)
    assert client.invoke("hello", {"worker_id": 0}) == "a" * 32
    assert len(playback.requests) == 6
    assert all(r["body"] == {"worker_id": 0} for r in playback.requests)


def test_throttling_that_never_ends_fails_with_the_servers_message(playback):
    playback.default = (429, THROTTLED)
    client = client_for(playback, retries=3)
    with pytest.raises(OpenWhiskError, match="Too many requests in the last minute"):
        client.invoke("hello", {})
    assert len(playback.requests) == 4


def test_gateway_error_on_invoke_is_not_retried_but_on_get_it_is(playback):
    playback.script = [(502, {"error": "bad gateway"})]
    client = client_for(playback)
    with pytest.raises(OpenWhiskError, match="HTTP 502"):
        client.invoke("hello", {})
    assert len(playback.requests) == 1
    playback.script = [(502, {"error": "bad gateway"}), (200, {"activationId": "x"})]
    assert client.get_activation("x") == {"activationId": "x"}
    assert len(playback.requests) == 3


def test_wrong_key_says_what_to_fix_without_the_key(playback):
    playback.default = (401, {"error": "The supplied authentication is invalid", "code": 1})
    client = client_for(playback)
    with pytest.raises(OpenWhiskError) as raised:
        client.list_activations(name="hello")
    assert "platform.auth" in str(raised.value)
    assert "secret-key" not in str(raised.value)


def test_activation_list_query_is_the_bulk_poll(playback):
    playback.default = (200, [])
    client = client_for(playback, namespace="guest")
    client.list_activations(name="hello", since=1700000000000, limit=200, skip=400)
    [request] = playback.requests
    assert request["path"] == "/api/v1/namespaces/guest/activations"
    assert request["query"] == {"name": ["hello"], "since": ["1700000000000"], "limit": ["200"],
                                "skip": ["400"], "docs": ["true"]}


def test_refused_connection_is_one_clear_error():
    client = OpenWhiskClient("http://127.0.0.1:9", "u:k", retries=1)
    with pytest.raises(OpenWhiskError, match="cannot reach http://127.0.0.1:9"):
        client.invoke("hello", {})


@pytest.fixture
def tls_playback(playback, tmp_path):
    """The playback server behind a self-signed certificate."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    handler = playback.handler
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield SimpleNamespace(url=f"https://127.0.0.1:{server.server_address[1]}", cert=cert)
    server.shutdown()


def test_self_signed_certificate_is_refused_unless_trusted(tls_playback, playback):
    playback.default = (200, {"concurrentInvocations": 30})
    strict = OpenWhiskClient(tls_playback.url, "u:k", retries=0)
    with pytest.raises(OpenWhiskError, match="TLS verification .* failed.*platform.ca_bundle"):
        strict.limits()
    trusting = OpenWhiskClient(tls_playback.url, "u:k", verify=str(tls_playback.cert))
    assert trusting.limits() == {"concurrentInvocations": 30}
    insecure = OpenWhiskClient(tls_playback.url, "u:k", verify=False)
    assert insecure.limits() == {"concurrentInvocations": 30}


def test_the_environments_ca_bundle_is_trusted_unless_one_is_configured(tls_playback, playback,
                                                                        monkeypatch, tmp_path):
    playback.default = (200, {"concurrentInvocations": 30})
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_playback.cert))
    assert OpenWhiskClient(tls_playback.url, "u:k").limits() == {"concurrentInvocations": 30}
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "")
    monkeypatch.setenv("CURL_CA_BUNDLE", "")  # empty: still verified, so refused
    with pytest.raises(OpenWhiskError, match="TLS verification"):
        OpenWhiskClient(tls_playback.url, "u:k", retries=0).limits()
    other_ca = tmp_path / "other.pem"
    other_ca.write_text(tls_playback.cert.read_text())
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    configured = OpenWhiskClient(tls_playback.url, "u:k", verify=str(other_ca))
    assert configured.limits() == {"concurrentInvocations": 30}


def test_a_proxy_from_the_environment_carries_the_requests(playback, monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, playback.url)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    client = OpenWhiskClient("http://openwhisk.invalid:3233", "u:k", retries=0)
    assert client.invoke("hello", {}) == "a" * 32
    assert playback.requests[-1]["host"] == "openwhisk.invalid:3233"
    assert playback.requests[-1]["path"] == "/api/v1/namespaces/_/actions/hello"


def test_a_run_against_an_untrusted_certificate_ends_in_one_line(tls_playback, run_cli):
    run = run_cli("platform=openwhisk", f"platform.api_host={tls_playback.url}",
                  "platform.auth=u:k", "mode=map", "workers=2", "app=sleep", timeout=60)
    assert run.returncode == 1, run.stderr
    [line] = run.stderr.splitlines()
    assert re.fullmatch(rf"error: TLS verification of {re.escape(tls_playback.url)} failed "
                        r"\(certificate verify failed: .+\); set platform\.ca_bundle, or "
                        r"platform\.insecure=true for a self-signed test cluster", line), line
    assert run.summary["status"] == "error"
