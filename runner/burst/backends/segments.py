"""Shared-memory segments: how a big message reaches a pack-mate with one copy of its bytes.

Pack-mates share the pack directory, which lives on a memory file system. The
sender copies the payload into a segment (a file there, which it keeps
mapped) and sends only a descriptor over the socket: the payload's length and
the segment's name. The receiver maps the segment and hands the mapping to the
user as a writable ``memoryview``, which ``numpy.frombuffer`` wraps without
another copy.

Segments are recycled, because fresh pages are what costs: copying 64 MiB into
new pages of a memory file system takes about five times as long as into pages
already there (page faults and zeroing). A segment's name says who may touch
it: ``<sender>.<n>.seg`` is the receiver's until the last view of its mapping
is dropped, when the receiver renames it to ``<sender>.<n>.free``; the sender
takes a free segment back by renaming it again (a rename either succeeds for
one process or fails), so it never writes into memory a receiver still reads.

Nothing outlives the pack: every segment is a file in the pack directory, which
the pack's parent removes when the pack ends (the next launcher removes it if the
parent itself was killed), and the mappings end with the workers' processes.
"""

from __future__ import annotations

import itertools
import mmap
import os
import re
import struct
import weakref
from dataclasses import dataclass

IN_USE = ".seg"
FREE = ".free"
# The descriptor a segment frame carries: the payload's length, then the segment's name.
LENGTH = struct.Struct("<Q")
_NAME = re.compile(r"\A[0-9]+\.[0-9]+\.seg\Z")


class _Mapping(mmap.mmap):
    """A receiver's mapping: a subclass only so that a finalizer can watch it."""


@dataclass
class _Segment:
    stem: str  # "<sender>.<n>"
    mapping: mmap.mmap  # the sender's own mapping, kept for the segment's life

    @property
    def capacity(self) -> int:
        return len(self.mapping)


class SegmentWriter:
    """The segments of one sending worker: made on demand, reused once receivers let go."""

    def __init__(self, directory: str, worker_id: int) -> None:
        self._directory = directory
        self._prefix = f"{worker_id}."  # one process per worker id in a pack directory
        self._numbers = itertools.count()
        self._segments: list[_Segment] = []

    def write(self, payload: memoryview) -> bytes | None:
        """Copy ``payload`` into a segment and return the descriptor to send.

        Returns None when the memory file system is full, so the caller can
        send the bytes over the socket instead.
        """
        size = len(payload)
        segment = self._take_free(size)
        if segment is None:
            self._drop_free_smaller_than(size)
            segment = self._create(size)
            if segment is None:
                return None
        segment.mapping[:size] = payload
        return LENGTH.pack(size) + f"{segment.stem}{IN_USE}".encode()

    def _path(self, stem: str, state: str) -> str:
        return os.path.join(self._directory, stem + state)

    def _take_free(self, size: int) -> _Segment | None:
        for segment in self._segments:
            if segment.capacity < size:
                continue
            try:
                os.rename(self._path(segment.stem, FREE), self._path(segment.stem, IN_USE))
            except FileNotFoundError:  # a receiver still holds it
                continue
            return segment
        return None

    def _drop_free_smaller_than(self, size: int) -> None:
        """Free segments too small for this message would sit unused: give their pages back."""
        for segment in [s for s in self._segments if s.capacity < size]:
            try:
                os.unlink(self._path(segment.stem, FREE))
            except FileNotFoundError:
                continue
            segment.mapping.close()
            self._segments.remove(segment)

    def _create(self, size: int) -> _Segment | None:
        stem = f"{self._prefix}{next(self._numbers)}"
        path = self._path(stem, IN_USE)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            # Allocate every page now: a full memory file system is an error here,
            # not a SIGBUS on first write through the mapping.
            os.posix_fallocate(fd, 0, size)
            mapping = mmap.mmap(fd, size, flags=mmap.MAP_SHARED)
        except OSError:
            os.unlink(path)
            return None
        finally:
            os.close(fd)
        segment = _Segment(stem, mapping)
        self._segments.append(segment)
        return segment


def map_segment(directory: str, descriptor: bytes) -> memoryview:
    """The payload a pack-mate's descriptor announces, as a view of its segment.

    When the last view of it is dropped, the segment goes back to its sender.
    Only names a ``SegmentWriter`` makes are accepted, so a frame can never make
    a worker open a file outside its pack directory.
    """
    (size,) = LENGTH.unpack_from(descriptor)
    name = descriptor[LENGTH.size :].decode(errors="replace")
    if not _NAME.match(name):
        raise ValueError(f"not a segment name: {name[:64]!r}")
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        mapping = _Mapping(fd, size, flags=mmap.MAP_SHARED)
    finally:
        os.close(fd)
    weakref.finalize(mapping, _release, path)
    return memoryview(mapping)


def _release(path: str) -> None:
    try:
        os.rename(path, path[: -len(IN_USE)] + FREE)
    except FileNotFoundError:  # the pack ended and its directory is gone
        pass
