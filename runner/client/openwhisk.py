"""REST client for OpenWhisk controllers: real clusters and the embedded platform alike.

It speaks only the OpenWhisk API (plus the burst fork's `?burst=true` extension)
and knows nothing of experiments or configs, so it can be reused and tested
against any server.
"""

from __future__ import annotations

import os
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

IDEMPOTENT = {"GET", "PUT", "DELETE"}
# 429 and 503 mean the request was refused before any work was done; other server
# errors may hide an accepted invocation, so only idempotent requests retry them.
NOT_ACCEPTED = {429, 503}
SERVER_ERRORS = {500, 502, 504}
# A refused connection means nothing listens at the address: no request was sent, so any
# method may retry it, but only briefly. An address that never answered is most likely
# wrong; one that answered before may be a controller restarting, given a little longer.
NEVER_ANSWERED_GRACE_S = 1.5
RESTART_GRACE_S = 5.0
# Retries of a long outage or of throttling are said once in this long, not per request.
NOTICE_EVERY_S = 10.0


class OpenWhiskError(RuntimeError):
    """An answer the client cannot turn into a result; `status` is the HTTP code (0: no answer)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status
        self.message = message


class Unreachable(OpenWhiskError):
    """Nothing listens at the controller's address (connections refused): waiting is futile."""

    def __init__(self, host: str, grace_s: float):
        super().__init__(0, f"cannot reach {host}: connection refused for {grace_s:.1f} s "
                            "(nothing listens there: check platform.api_host, or APIHOST in "
                            "~/.wskprops, or whether the platform stopped)")


def notice_on_stderr(line: str) -> None:
    """Tells the user that requests are being retried (`OpenWhiskClient(notify=...)`)."""
    print(line, file=sys.stderr, flush=True)


def _refused(error: requests.RequestException) -> bool:
    """Whether a connection error is a refusal (ECONNREFUSED), as opposed to a timeout or reset.

    requests wraps urllib3's MaxRetryError, whose reason wraps the socket's error.
    """
    cause = getattr(error.args[0] if error.args else None, "reason", None)
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


@dataclass(frozen=True)
class BurstOptions:
    granularity: int | None = None
    join: bool = False
    backend: str | None = None
    chunk_size: int | None = None
    debug: bool = False

    def query(self) -> dict[str, str]:
        params = {"burst": "true", "join": _flag(self.join), "debug": _flag(self.debug)}
        if self.granularity is not None:
            params["granularity"] = str(self.granularity)
        if self.backend is not None:
            params["backend"] = self.backend
        if self.chunk_size is not None:
            params["chunk_size"] = str(self.chunk_size)
        return params


def _flag(value: bool) -> str:
    return "true" if value else "false"


class OpenWhiskClient:
    """One pooled HTTP session per controller; safe to share between invoking threads."""

    def __init__(
        self,
        api_host: str,
        auth: str,
        namespace: str = "_",
        verify: bool | str = True,
        pool_size: int = 64,
        retries: int = 8,
        request_timeout_s: float = 75.0,
        notify: Callable[[str], None] | None = None,
    ):
        """`notify` is told, in one line, when requests are being retried for a while."""
        if "://" not in api_host:
            api_host = f"https://{api_host}"
        self.host = api_host.rstrip("/")
        self.base = f"{self.host}/api/v1/namespaces/{namespace}"
        self.retries = retries
        self.request_timeout_s = request_timeout_s
        user, _, key = auth.partition(":")
        self.session = requests.Session()
        self.session.auth = (user, key)
        # The environment (proxies, CA bundle) is read once here: requests would scan all of
        # it on every request, a third of the client's CPU per invocation, and would let
        # REQUESTS_CA_BUNDLE override a CA bundle the user configured.
        self.session.trust_env = False
        self.session.proxies = requests.utils.get_environ_proxies(self.host)
        if verify is True:  # an empty variable must not turn verification off
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            verify = bundle or True
        self.session.verify = verify
        if verify is False:  # chosen by the user (platform.insecure): no warning per request
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.requests_sent = 0
        self.answered = False  # once the controller has answered, refusals may be a restart
        self._notify = notify
        self._noticed = -NOTICE_EVERY_S

    def _notice(self, line: str) -> None:
        now = time.monotonic()
        if self._notify is not None and now - self._noticed >= NOTICE_EVERY_S:
            self._noticed = now
            self._notify(line)

    def close(self) -> None:
        self.session.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Sends one request, retrying what cannot have taken effect twice.

        Throttling (429) and gateway errors are retried with capped, jittered
        exponential backoff; connection failures only for idempotent methods,
        since a POST that reached the controller may have created an activation.
        Refused connections are retried for a grace period only (`Unreachable`).
        """
        delay = 0.05
        attempt = 0
        refused_since: float | None = None
        while True:
            last = attempt == self.retries
            self.requests_sent += 1
            try:
                response = self.session.request(
                    method, self.base + path, timeout=self.request_timeout_s, **kwargs
                )
            except requests.exceptions.SSLError as error:
                reason = re.search(r"certificate verify failed: [^')(]*", str(error))
                raise OpenWhiskError(0, f"TLS verification of {self.host} failed "
                                        f"({reason.group(0).strip() if reason else 'SSL error'}); "
                                        "set platform.ca_bundle, or platform.insecure=true "
                                        "for a self-signed test cluster") from error
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError) as error:
                if isinstance(error, requests.ConnectionError) and _refused(error):
                    refused_since = refused_since or time.monotonic()
                    grace = RESTART_GRACE_S if self.answered else NEVER_ANSWERED_GRACE_S
                    left = refused_since + grace - time.monotonic()
                    if left <= 0:
                        raise Unreachable(self.host, grace) from error
                    if self.answered:
                        self._notice(f"waiting: {self.host} refuses connections; giving up "
                                     f"after {grace:.0f} s")
                    time.sleep(min(left, delay * (0.5 + random.random())))
                    delay = min(delay * 2, 1.0)
                    continue
                if method not in IDEMPOTENT or last:
                    raise OpenWhiskError(0, f"cannot reach {self.host}: "
                                            f"{type(error).__name__} (check platform.api_host, "
                                            "or APIHOST in ~/.wskprops)") from error
                self._notice(f"waiting: {self.host} did not answer ({type(error).__name__}); "
                             f"retrying, {self.retries - attempt} more tries")
            else:
                self.answered = True
                if response.status_code == 401:
                    raise OpenWhiskError(401, "the controller rejected the key: check "
                                              "platform.auth (or AUTH in ~/.wskprops)")
                retryable = NOT_ACCEPTED | (SERVER_ERRORS if method in IDEMPOTENT else set())
                if response.status_code not in retryable or last:
                    return response
                self._notice(f"waiting: {self.host} answered HTTP {response.status_code} "
                             f"({self._error(response).message[:120]}); retrying with backoff")
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 5.0)
            attempt += 1

    @staticmethod
    def _error(response: requests.Response) -> OpenWhiskError:
        try:
            message = response.json().get("error") or response.text
        except ValueError:
            message = response.text[:200] or response.reason
        return OpenWhiskError(response.status_code, str(message))

    def put_action(self, name: str, action: dict[str, Any], overwrite: bool = True) -> dict:
        response = self._request(
            "PUT", f"/actions/{name}", params={"overwrite": _flag(overwrite)}, json=action
        )
        if response.status_code != 200:
            raise self._error(response)
        return response.json()

    def get_action(self, name: str) -> dict | None:
        response = self._request("GET", f"/actions/{name}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._error(response)
        return response.json()

    def delete_action(self, name: str) -> bool:
        """Deletes the action; False when there was none."""
        response = self._request("DELETE", f"/actions/{name}")
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise self._error(response)
        return True

    def invoke(self, name: str, params: dict[str, Any]) -> str:
        """Non-blocking invocation; returns the activation id."""
        response = self._request("POST", f"/actions/{name}", json=params)
        if response.status_code != 202:
            raise self._error(response)
        return response.json()["activationId"]

    def invoke_blocking(self, name: str, params: dict[str, Any]) -> tuple[str, dict | None]:
        """Blocking invocation: the record when it ends within the controller's wait, else None."""
        response = self._request("POST", f"/actions/{name}", params={"blocking": "true"},
                                 json=params)
        if response.status_code == 202:
            return response.json()["activationId"], None
        body = response.json() if response.status_code in (200, 502) else None
        if not isinstance(body, dict) or "activationId" not in body:
            raise self._error(response)
        return body["activationId"], body

    def invoke_burst(
        self, name: str, params: list[dict[str, Any]], options: BurstOptions
    ) -> list[str]:
        """One burst of len(params) workers; returns one activation id per pack, in pack order."""
        response = self._request(
            "POST", f"/actions/{name}", params=options.query(), json={"value": params}
        )
        if response.status_code != 202:
            raise self._error(response)
        return response.json()["activationIds"]

    def get_activation(self, activation_id: str) -> dict | None:
        """The finished activation's record, or None while it is still running."""
        response = self._request("GET", f"/activations/{activation_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._error(response)
        return response.json()

    def list_activations(
        self,
        name: str | None = None,
        since: int | None = None,
        upto: int | None = None,
        limit: int = 200,
        skip: int = 0,
        docs: bool = True,
    ) -> list[dict]:
        """One page of finished activations, newest first (the bulk-polling primitive)."""
        query: dict[str, Any] = {"limit": limit, "skip": skip, "docs": _flag(docs)}
        if name:
            query["name"] = name
        if since is not None:
            query["since"] = since
        if upto is not None:
            query["upto"] = upto
        response = self._request("GET", "/activations", params=query)
        if response.status_code != 200:
            raise self._error(response)
        return response.json()

    def limits(self) -> dict[str, Any]:
        response = self._request("GET", "/limits")
        if response.status_code != 200:
            raise self._error(response)
        return response.json()

    def activation_logs(self, activation_id: str) -> list[str]:
        response = self._request("GET", f"/activations/{activation_id}/logs")
        if response.status_code != 200:
            raise self._error(response)
        return response.json().get("logs", [])
