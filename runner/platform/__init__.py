"""Embedded OpenWhisk-compatible platform.

A real HTTP server speaking the OpenWhisk REST API (plus the burst extension)
that runs conforming action zips as local processes. It knows nothing about the
runner: any OpenWhisk client can deploy to it and invoke it, which is how the
runner's own client gets tested for real. Start it with ``python -m runner.platform``.
"""
