"""A small threaded HTTP server answering JSON: the stand-in for a controller's misbehaviour.

The embedded platform covers the real API over real HTTP; these fakes play what
only a real cluster does (throttling, clock skew, dropped connections) and see
the exact requests the client sends.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

NAMESPACE = "/api/v1/namespaces/_"
LIST_KEYS = {"limit", "skip", "docs", "name", "since", "upto"}


class JsonHandler(BaseHTTPRequestHandler):
    """Keep-alive, quiet, with one way to answer."""

    protocol_version = "HTTP/1.1"

    def reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def log_message(self, *args: Any) -> None:
        pass


def wrong_request(method: str, path: str, headers: Mapping[str, str], auth: str,
                  action: str) -> str | None:
    """What in a runner's request a cluster's controller would not take, or None.

    The runner sends three kinds to a controller during a map: a non-blocking
    invocation of `action`, a page of `action`'s records, one record by id.
    A fake that answers anything else would let a broken client pass.
    """
    url = urlparse(path)
    query = parse_qs(url.query, keep_blank_values=True)
    if headers.get("Authorization") != "Basic " + base64.b64encode(auth.encode()).decode():
        return f"{method} {path}: credentials {headers.get('Authorization')!r}"
    if method == "POST":
        if url.path != f"{NAMESPACE}/actions/{action}" or query:
            return f"POST {path}: not a non-blocking invocation of {action}"
        if headers.get("Content-Type") != "application/json":
            return f"POST {path}: body sent as {headers.get('Content-Type')!r}"
        return None
    if method != "GET":
        return f"{method} {path}: not a request of a map run"
    if url.path.startswith(f"{NAMESPACE}/activations/"):
        activation_id = url.path.rsplit("/", 1)[-1]
        return None if activation_id.isalnum() and not query else f"GET {path}: not a record"
    if url.path != f"{NAMESPACE}/activations" or not set(query) <= LIST_KEYS:
        return f"GET {path}: not a listing of activations"
    if query.get("name") != [action] or query.get("docs") != ["true"]:
        return f"GET {path}: not {action}'s records with their results"
    if not 1 <= int(query["limit"][0]) <= 200 or int(query.get("skip", ["0"])[0]) < 0:
        return f"GET {path}: a page a controller refuses"
    return None


class JsonServer(ThreadingHTTPServer):
    request_queue_size = 256  # the runner connects 64 at a time; the default backlog is 5
    daemon_threads = True


def serve(handler: type[BaseHTTPRequestHandler]) -> tuple[JsonServer, str]:
    """Starts `handler` on a free loopback port; returns the server and its URL."""
    server = JsonServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
