"""Rust burst apps through the real command line, embedded platform and build step."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("backend", ["local", "redis"])
def test_hello_in_rust_passes_its_ring_and_broadcast_check_across_packs(run_cli, redis_uri,
                                                                        backend):
    server = [f"burst.backend_uri={redis_uri}"] if backend == "redis" else []
    run = run_cli("mode=burst", "workers=9", "app=hello", "app.lang=rust",
                  "burst.granularity=4", f"burst.backend={backend}", *server)
    assert run.returncode == 0, run.stderr
    summary = run.summary
    assert summary["status"] == "ok" and summary["valid"] == True  # noqa: E712 (numpy bool)
    assert summary["activations"] == 3
    workers = run.csv("workers.csv")
    assert sorted(workers["token_from_left"]) == list(range(9))
    assert workers["broadcast"].eq("hello from worker 0").all()


@pytest.mark.parametrize("backend", ["local", "redis"])
def test_collectives_in_rust_all_to_all_32_workers(run_cli, redis_uri, backend):
    server = [f"burst.backend_uri={redis_uri}"] if backend == "redis" else []
    run = run_cli("mode=burst", "workers=32", "app=collectives", "app.lang=rust",
                  "app.op=all_to_all", "app.payload_kb=64", "burst.granularity=8",
                  f"burst.backend={backend}", *server)
    assert run.returncode == 0, run.stderr
    assert run.summary["status"] == "ok" and "delivered the expected bytes" in run.stdout


def test_an_app_without_a_rust_burst_action_says_so_at_config_time(run_cli):
    run = run_cli("mode=burst", "workers=2", "app=sleep", "app.lang=rust")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1] == (
        "config error: app=sleep has no Rust burst action (a crate rust_burst/ in its folder "
        "whose main takes a Middleware): run it with mode=map, or app.lang=python")
    assert not run.run_dir.exists()


def test_a_backend_the_rust_middleware_lacks_is_refused_at_config_time(run_cli):
    run = run_cli("mode=burst", "workers=2", "app=hello", "app.lang=rust",
                  "burst.backend=rabbitmq")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "config error: burst.backend=rabbitmq: Rust burst actions speak local, redis, "
        "redis_list; choose one of them, or app.lang=python"]
    assert not run.run_dir.exists()
