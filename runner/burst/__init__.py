"""Burst communication middleware for Python actions (ships in action zips as ``burst``).

Users receive a ``BurstHandle`` as the second argument of ``main(args, burst)``;
the launcher (``burst.launcher.serve``) runs the OpenWhisk action loop.
"""

from .collectives import ReduceOp
from .errors import BurstError, BurstPeerError, BurstTimeoutError
from .handle import BurstHandle

__all__ = ["BurstError", "BurstHandle", "BurstPeerError", "BurstTimeoutError", "ReduceOp"]
