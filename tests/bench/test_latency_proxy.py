"""The relay the throughput benchmark uses to put a network between client and platform."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bench import latency_proxy

RTT_MS = 60


@pytest.fixture
def upstream():
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_bytes_arrive_intact_a_round_trip_late_and_a_new_connection_costs_one_more(upstream):
    payload = bytes(range(256)) * 4096  # 1 MiB, several chunks each way
    with latency_proxy.started(upstream, RTT_MS) as url, requests.Session() as session:
        started = time.perf_counter()
        first = session.post(url, data=payload, timeout=30)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        again = session.post(url, data=payload, timeout=30)
        again_s = time.perf_counter() - started
    assert first.content == payload and again.content == payload
    assert first_s >= 2 * RTT_MS / 1000, "handshake and request each wait a round trip"
    assert again_s >= RTT_MS / 1000, "a kept-alive connection still waits the round trip"
