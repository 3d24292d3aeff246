"""sleep action: sleeps sleep_ms and reports how long it really slept."""

import time


def main(args, burst=None):
    started = time.perf_counter()
    time.sleep(args["sleep_ms"] / 1000)
    slept_ms = (time.perf_counter() - started) * 1000
    worker_id = burst.worker_id if burst is not None else args["worker_id"]
    return {"worker_id": worker_id, "slept_ms": round(slept_ms, 3)}
