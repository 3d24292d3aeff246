"""Turn user payloads into flat byte views without copying when the memory allows it."""

from __future__ import annotations

from typing import Any


def byte_view(data: Any) -> memoryview:
    """Return a 1-D unsigned-byte view of any buffer-protocol object.

    Contiguous buffers (bytes, bytearray, C-ordered numpy arrays) are viewed in
    place; only the rest (strided slices, 0-d or empty N-d arrays) is copied,
    because the wire needs one run of bytes.
    """
    view = data if isinstance(data, memoryview) else memoryview(data)
    if view.ndim == 1 and view.format == "B":
        return view
    if view.c_contiguous and view.ndim > 0 and view.nbytes > 0:
        return view.cast("B")
    return memoryview(view.tobytes())


# What a receive returns: bytes or bytearray, or, for a big message from a pack-mate, a
# writable view of the shared memory it arrived in. All three wrap with numpy.frombuffer.
Received = bytes | bytearray | memoryview
