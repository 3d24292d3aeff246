"""The one exception type the request-handling layers raise for client-visible errors.

Parsing and validation code lives outside ``server.py`` but must still decide the
HTTP status and message; raising ``ApiError`` lets it do so without importing aiohttp.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error answered to the client as ``{"error": message, "code": n}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def not_found() -> ApiError:
    """OpenWhisk's wording for any missing entity (action, activation, route)."""
    return ApiError(404, "The requested resource does not exist.")
