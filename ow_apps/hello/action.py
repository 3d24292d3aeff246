"""hello action: map greets; burst passes a token around a ring and echoes a broadcast."""


def main(args, burst=None):
    if burst is None:
        worker_id = args["worker_id"]
        return {"worker_id": worker_id, "message": f"{args['greeting']} from worker {worker_id}"}

    me, size = burst.worker_id, burst.burst_size
    burst.send((me + 1) % size, me.to_bytes(4, "little"))
    token = int.from_bytes(burst.recv((me - 1) % size), "little")
    value = f"{args['greeting']} from worker {me}".encode() if me == 0 else None
    echoed = bytes(burst.broadcast(value, root=0)).decode()
    return {"worker_id": me, "group_id": burst.group_id, "token_from_left": token,
            "broadcast": echoed}
