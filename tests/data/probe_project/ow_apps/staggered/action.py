"""staggered action: sleep, then say how long."""

import time


def main(args, burst=None):
    time.sleep(args["sleep_ms"] / 1000)
    return {"slept_ms": args["sleep_ms"]}
