"""``python -m runner.platform``: run the embedded OpenWhisk-compatible platform.

Once listening it prints exactly two lines, ``APIHOST=...`` and ``AUTH=...``, so a
parent process can start it on a random port and read where to connect; its log
(stderr) starts with a line saying how containers' memory is limited. It exits
(status 0) on SIGTERM, SIGINT, or stdin EOF with ``--exit-with-stdin``, killing
every action process group and removing its workdir and memory cgroups on the
way out. With ``--args-from-stdin`` it first reads the rest of its arguments as
one JSON list on stdin: the runner starts the interpreter (and its imports, most
of a start) before it knows the run's settings, and sends them once it does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import string
import sys
import tempfile
import threading
import uuid
from pathlib import Path

from aiohttp import web

from runner.burst import catalog
from runner.platform import servers
from runner.platform.cgroups import CgroupTree, Unavailable, open_tree
from runner.platform.controller import Controller
from runner.platform.pool import usable_cpus
from runner.platform.quick_exit import exit_now
from runner.platform.server import build_app
from runner.platform.settings import Settings


def _auth(value: str) -> tuple[str, str]:
    user, _, key = value.partition(":")
    if not user or not key:
        raise argparse.ArgumentTypeError("expected UUID:KEY")
    return user, key


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _megabytes(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return number


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m runner.platform",
        description="Embedded OpenWhisk-compatible platform (REST API /api/v1 + burst extension).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="listen address (loopback default)")
    parser.add_argument("--port", type=int, default=3233, help="listen port; 0 = random free port")
    parser.add_argument(
        "--auth", type=_auth, help="UUID:KEY clients must send (default: random per start)"
    )
    parser.add_argument("--namespace", default="guest")
    parser.add_argument(
        "--invokers", type=_positive, default=1, help="invokers (bursts are packed per invoker)"
    )
    parser.add_argument(
        "--slots",
        type=_positive,
        default=256,
        help="worker slots per invoker: a map activation takes 1, a burst pack its worker count",
    )
    parser.add_argument(
        "--max-starting",
        type=_positive,
        default=usable_cpus(),
        help="maximum concurrent cold starts (default: the CPUs; a start is mostly CPU work)",
    )
    parser.add_argument(
        "--burst-backend",
        default="local",
        choices=sorted(catalog.BACKENDS),
        help="backend of burst requests that name none",
    )
    parser.add_argument(
        "--backend-uri",
        help="server of the remote backend (redis://..., amqp://..., s3://...); without it, "
        "one is started for the platform's lifetime on a free loopback port",
    )
    parser.add_argument(
        "--max-payload-mb",
        type=_megabytes,
        default=1.0,
        help="largest invocation request body (MiB); larger ones get 413",
    )
    parser.add_argument(
        "--max-result-mb",
        type=_megabytes,
        default=1.0,
        help="largest result of an activation (MiB; a burst pack: per worker)",
    )
    parser.add_argument(
        "--invocations-per-minute", type=_positive, help="throttle: workers invoked per minute"
    )
    parser.add_argument(
        "--concurrent-invocations", type=_positive, help="throttle: workers queued or running"
    )
    parser.add_argument(
        "--state", type=Path, help="SQLite file keeping actions and activations across restarts"
    )
    parser.add_argument(
        "--memory-limit",
        choices=("auto", "cgroup", "rlimit"),
        default="auto",
        help="how limits.memory is enforced: a memory cgroup per container, RLIMIT_DATA per "
        "process, or auto (cgroup when this machine allows it)",
    )
    parser.add_argument("--workdir", help="directory for unpacked code (default: fresh temp dir)")
    parser.add_argument(
        "--exit-with-stdin", action="store_true", help="exit when stdin reaches EOF"
    )
    parser.add_argument(
        "--args-from-stdin", action="store_true",
        help="read further arguments as one JSON list line on stdin before starting "
        "(EOF instead: exit at once)",
    )
    return parser.parse_args(argv)


def _arguments(argv: list[str] | None) -> argparse.Namespace | None:
    """The arguments, completed from stdin if asked; None when stdin closed before any came."""
    args = parse_args(argv)
    if not args.args_from_stdin:
        return args
    line = sys.stdin.readline()
    if not line:
        return None
    given = sys.argv[1:] if argv is None else argv
    return parse_args([*given, *json.loads(line)])


def _random_auth() -> tuple[str, str]:
    alphabet = string.ascii_letters + string.digits
    return str(uuid.uuid4()), "".join(secrets.choice(alphabet) for _ in range(64))


def _prepare_workdir(path: str | None) -> tuple[Path, list[Path]]:
    """The workdir, and what to delete at exit (never a directory the user already had)."""
    if path is None:
        workdir = Path(tempfile.mkdtemp(prefix="owp-"))
        return workdir, [workdir]
    workdir = Path(path).resolve()
    if not workdir.exists():
        workdir.mkdir(parents=True)
        return workdir, [workdir]
    return workdir, [workdir / "code", workdir / "b"]


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set ``stop`` at stdin EOF. A daemon thread works for pipes, files and ttys alike."""

    def watch() -> None:
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            pass
        try:
            loop.call_soon_threadsafe(stop.set)
        except RuntimeError:  # the loop already ended
            pass

    threading.Thread(target=watch, name="stdin-eof", daemon=True).start()


def memory_cgroups(mode: str) -> tuple[CgroupTree | None, str]:
    """The cgroup tree to limit containers with (None: RLIMIT_DATA), and a line saying which.

    Raises Unavailable when ``mode`` is ``cgroup`` and this machine cannot give them.
    """
    if mode == "rlimit":
        return None, "RLIMIT_DATA per process (--memory-limit rlimit)"
    try:
        tree = open_tree()
    except Unavailable as exc:
        if mode == "cgroup":
            raise
        return None, f"RLIMIT_DATA per process (no cgroups: {exc})"
    return tree, f"a memory cgroup per container, {tree.description}"


async def serve(
    settings: Settings, exit_with_stdin: bool, cgroups: CgroupTree | None = None
) -> None:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.create_server((settings.host, settings.port), family=family)
    url_host = f"[{settings.host}]" if family == socket.AF_INET6 else settings.host
    api_host = f"http://{url_host}:{sock.getsockname()[1]}"
    controller = Controller(settings, api_host, cgroups)
    runner = web.AppRunner(build_app(controller), access_log=None, shutdown_timeout=1.0)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await controller.restore()
        await runner.setup()
        await web.SockSite(runner, sock).start()
        sys.stdout.write(f"APIHOST={api_host}\nAUTH={settings.api_key}\n")
        sys.stdout.flush()
        if exit_with_stdin:
            _watch_stdin(loop, stop)
        await stop.wait()
    finally:
        await controller.close()
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args is None:
        return 0  # started ahead for a run that did not need it
    problem = backend_problem(args.burst_backend, args.backend_uri)
    if problem:
        sys.exit(problem)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s"
    )
    try:
        cgroups, how = memory_cgroups(args.memory_limit)
    except Unavailable as exc:
        sys.exit(f"--memory-limit cgroup: {exc}")
    start_log = logging.getLogger("runner.platform.start")
    start_log.setLevel(logging.INFO)  # this one line, not every module's informational ones
    start_log.info("memory limit: %s", how)
    try:
        _run(args, cgroups)
    finally:
        if cgroups is not None:
            cgroups.close()
    return 0


def backend_problem(backend: str, backend_uri: str | None) -> str | None:
    """Why the platform cannot serve ``--burst-backend`` bursts, in one line, or None."""
    server = catalog.BACKENDS[backend].server
    if server is None:
        return None
    if backend_uri is None:
        problem = servers.missing(server)
        return problem and f"--burst-backend {backend}: {problem}, or give --backend-uri"
    if catalog.server_of_uri(backend_uri) != server:
        return (f"--burst-backend {backend} needs a {server.name} server: --backend-uri "
                f"must start with {' or '.join(s + '://' for s in server.schemes)}")
    return None


def _run(args: argparse.Namespace, cgroups: CgroupTree | None) -> None:
    """Serve until told to stop; the workdir and the backend server made for this run go with it.

    Without ``--backend-uri``, a backend that needs a server gets a private one
    (``servers.py``), started before the platform listens.
    """
    server = catalog.BACKENDS[args.burst_backend].server
    with contextlib.ExitStack() as stack:
        if server is not None and not args.backend_uri:
            try:
                running = stack.enter_context(servers.started(server))
            except servers.ServerError as exc:
                sys.exit(f"--burst-backend {args.burst_backend}: {exc}")
            args.backend_uri = running.uri
            logging.getLogger("runner.platform.start").info(
                "backend server: %s at %s (pid %d)", server.executable, running.uri,
                running.process.pid,
            )
        _serve_with(args, cgroups)


def _serve_with(args: argparse.Namespace, cgroups: CgroupTree | None) -> None:
    user, key = args.auth or _random_auth()
    workdir, owned = _prepare_workdir(args.workdir)
    settings = Settings(
        host=args.host,
        port=args.port,
        uuid=user,
        key=key,
        namespace=args.namespace,
        invokers=args.invokers,
        slots=args.slots,
        max_starting=args.max_starting,
        burst_backend=args.burst_backend,
        backend_uri=args.backend_uri,
        workdir=workdir,
        max_payload_mb=args.max_payload_mb,
        max_result_mb=args.max_result_mb,
        invocations_per_minute=args.invocations_per_minute,
        concurrent_invocations=args.concurrent_invocations,
        state=args.state.resolve() if args.state else None,
    )
    try:
        asyncio.run(serve(settings, args.exit_with_stdin, cgroups))
    finally:
        for path in owned:
            shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    exit_now(main())
