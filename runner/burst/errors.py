"""Exceptions raised by the burst middleware, and how errors are shown to the platform."""

from __future__ import annotations


class BurstError(Exception):
    """A communication failure that the user's code may want to tell apart from its own bugs."""


class BurstTimeoutError(BurstError, TimeoutError):
    """A blocking operation ran out of time; the message names the peer being waited for."""


class BurstPeerError(BurstError):
    """The peer an operation needed failed or died; the message names it and says how.

    Raised long before the deadline, so a burst with one broken worker ends
    promptly and each envelope tells who failed and who was waiting on whom.
    """


class DeadlineExpired(Exception):
    """Internal signal from a backend that its wait hit the deadline.

    Backends only know worker ids; the transport turns this into a
    ``BurstTimeoutError`` that also names the peer's group.
    """


class PeerGone(Exception):
    """Internal signal from a backend that the peer will never answer.

    The message says how, from the peer's point of view ("failed: ValueError:
    boom", "died (signal 9, SIGKILL)"); the transport prefixes who.
    """


def describe(exc: BaseException) -> str:
    """Render an exception the way answers carry it: ``"ExcType: message"``."""
    return f"{type(exc).__name__}: {exc}"
