"""A small threaded HTTP server answering JSON: the stand-in for a controller's misbehaviour.

The embedded platform covers the real API over real HTTP; these fakes play what
only a real cluster does (throttling, clock skew, dropped connections) and see
the exact requests the client sends.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


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


class JsonServer(ThreadingHTTPServer):
    request_queue_size = 256  # the runner connects 64 at a time; the default backlog is 5
    daemon_threads = True


def serve(handler: type[BaseHTTPRequestHandler]) -> tuple[JsonServer, str]:
    """Starts `handler` on a free loopback port; returns the server and its URL."""
    server = JsonServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
