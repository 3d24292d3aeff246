"""A TCP relay that adds a network's round-trip time between a client and the platform.

On loopback a request costs only CPU, so sending them concurrently can gain no
more than the cores it spreads them over. A real cluster is a network away:
every request then waits a round trip, and that wait is what concurrency hides.
This relay puts half the round trip on each direction and a whole one on every
new connection (TCP's handshake), without adding CPU per byte beyond a copy.

    python -m bench.latency_proxy --upstream 127.0.0.1:3233 --rtt-ms 10

prints `PORT=<n>` once it listens on 127.0.0.1, then relays until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

CHUNK = 64 * 1024


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                delay_s: float) -> None:
    """Forwards bytes in order, each chunk `delay_s` after it arrived, as a wire would."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            writer.write(data)
            await writer.drain()

    delivery = asyncio.create_task(deliver())
    try:
        while data := await reader.read(CHUNK):
            queue.put_nowait((time.monotonic() + delay_s, data))
    finally:
        queue.put_nowait((0.0, b""))
        await delivery
        writer.close()


async def _relay(upstream: tuple[str, int], rtt_s: float,
                 client_reader: asyncio.StreamReader,
                 client_writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(rtt_s)  # the handshake with a host one round trip away
    try:
        server_reader, server_writer = await asyncio.open_connection(*upstream)
    except OSError:
        client_writer.close()
        return
    try:
        await asyncio.gather(_pump(client_reader, server_writer, rtt_s / 2),
                             _pump(server_reader, client_writer, rtt_s / 2))
    except (ConnectionError, OSError):
        client_writer.close()
        server_writer.close()


async def _serve(upstream: tuple[str, int], rtt_s: float) -> None:
    server = await asyncio.start_server(
        lambda r, w: _relay(upstream, rtt_s, r, w), "127.0.0.1", 0, backlog=1024
    )
    print(f"PORT={server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


@contextmanager
def started(upstream_url: str, rtt_ms: float) -> Iterator[str]:
    """A relay to `upstream_url` (http://host:port) in its own process; yields its URL.

    Its own process, so that relaying does not take the GIL from the client measured.
    """
    upstream = urlsplit(upstream_url)
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.latency_proxy", "--upstream", upstream.netloc,
         "--rtt-ms", str(rtt_ms)], stdout=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline().strip() if process.stdout else ""
        if not line.startswith("PORT="):
            raise RuntimeError(f"latency proxy did not start (printed {line!r})")
        yield f"http://127.0.0.1:{line.removeprefix('PORT=')}"
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT to relay to")
    parser.add_argument("--rtt-ms", type=float, required=True, help="round-trip time to add")
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    asyncio.run(_serve((host, int(port)), args.rtt_ms / 1000))


if __name__ == "__main__":
    main()
