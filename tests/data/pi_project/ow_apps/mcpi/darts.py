"""The dart count, shared by the action (shipped in its zip) and the check."""

import random


def hits(samples: int, seed: int) -> int:
    rng = random.Random(seed)
    return sum(1 for _ in range(samples) if rng.random() ** 2 + rng.random() ** 2 <= 1.0)
