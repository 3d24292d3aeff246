"""moto's S3 server, made safe for an object read while its PUT is being answered.

moto 5 computes an object's ETag lazily, from the object's buffer and without
the lock its reads take, and only after the object is visible to other
requests. The S3 backend's receivers poll for their messages, so they often
fetch an object in that window, and then either

- the GET and the PUT's answer seek the same buffer at once, and the GET
  returns part of the body (boto3 raises ``FlexibleChecksumError``); or
- the receiver's DELETE closes the buffer before the PUT is answered, the PUT
  fails with HTTP 500, boto3 retries it, and the message is stored again after
  it was consumed (left behind when the burst ends).

Computing the ETag in the object's constructor, while no other request can
reach it, closes that window: the same digest moto computes for every PUT, only
earlier. Run as ``python -m runner.platform.s3_server`` with moto_server's
arguments (``-H HOST -p PORT``).
"""

from __future__ import annotations

import sys
from typing import Any


def install_eager_etag() -> None:
    """Make every moto S3 object compute its ETag before it is stored."""
    from moto.s3.models import FakeKey

    construct = FakeKey.__init__
    if getattr(construct, "eager_etag", False):
        return

    def construct_with_etag(self: FakeKey, *args: Any, **kwargs: Any) -> None:
        construct(self, *args, **kwargs)
        _ = self.etag  # cached in the object from now on: no later read of its buffer

    construct_with_etag.eager_etag = True  # type: ignore[attr-defined]
    FakeKey.__init__ = construct_with_etag  # type: ignore[method-assign]


def main(argv: list[str]) -> None:
    install_eager_etag()
    from moto import server

    server.main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
