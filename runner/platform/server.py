"""HTTP layer: routes under /api/v1, Basic auth, query parsing, and JSON errors.

Every failure a client can cause is answered as OpenWhisk does, a JSON body
``{"error": ..., "code": n}`` with a 4xx/5xx status; nothing a client sends can
produce an HTML error page or crash the server.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from functools import cache
from importlib import metadata
from typing import Any

from aiohttp import web

from runner.platform.containers import now_ms
from runner.platform.controller import Controller
from runner.platform.errors import ApiError, not_found
from runner.platform.limits import oversized_request
from runner.platform.records import INTERNAL_ERROR, SUCCESS

log = logging.getLogger(__name__)
BASE = "/api/v1"
PROJECT = "burst-runner"
# Routes OpenWhisk serves outside basic auth: the liveness probe (any method) and
# the API description, which the wsk CLI's ``property get`` fetches without credentials.
_OPEN_PATHS = frozenset({"/ping"})
_INFO_PATHS = frozenset({BASE, f"{BASE}/"})
# Action zips of vendored Python dependencies are large; OpenWhisk's own cap is 48 MB of code.
MAX_BODY_BYTES = 256 * 1024 * 1024
MAX_BLOCKING_MS = 60000
DEFAULT_LIST_LIMIT = 30
MAX_LIST_LIMIT = 200
CONTROLLER: web.AppKey[Controller] = web.AppKey("controller", Controller)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_STATUS_MESSAGES = {
    404: "The requested resource does not exist.",
    405: "Method not allowed.",
    413: "The request content was too large.",
}


def error_response(status: int, message: str) -> web.Response:
    """OpenWhisk's error shape; ``code`` is the failed request's transaction id (a string)."""
    return web.json_response({"error": message, "code": uuid.uuid4().hex}, status=status)


def _authorized(request: web.Request) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        supplied = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(supplied, request.app[CONTROLLER].settings.api_key.encode())


def _public(request: web.Request) -> bool:
    """Whether a request is served without credentials.

    Only GET (and its HEAD) of the API description is open, as in OpenWhisk, where
    any other method on that path reaches the authentication directive.
    """
    if request.path in _OPEN_PATHS:
        return True
    return request.path in _INFO_PATHS and request.method in ("GET", "HEAD")


@web.middleware
async def api_middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Authenticate, then turn every error into OpenWhisk's JSON error shape."""
    try:
        if not _public(request) and not _authorized(request):
            raise ApiError(401, "The supplied authentication is invalid")
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, _STATUS_MESSAGES.get(exc.status, exc.reason))
    except Exception:
        log.exception("request %s %s failed", request.method, request.path)
        return error_response(500, "An internal error occurred while processing the request.")


def _flag(request: web.Request, name: str, default: bool = False) -> bool:
    raw = request.query.get(name, "")
    if raw == "":
        return default
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise ApiError(400, f"The query parameter '{name}' must be true or false, not '{raw}'.")


def _number(request: web.Request, name: str, minimum: int = 0) -> int | None:
    raw = request.query.get(name, "")
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ApiError(
            400, f"The query parameter '{name}' must be an integer >= {minimum}, not '{raw}'."
        )
    return value


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON; Python's parser would accept them."""
    raise ValueError(f"{name} is not a valid JSON value")


async def _body(request: web.Request, max_bytes: int | None = None) -> Any:
    """The JSON body; over ``max_bytes`` it is refused with 413, as OpenWhisk does."""
    raw = await request.read()
    if max_bytes is not None and len(raw) > max_bytes:
        raise ApiError(413, oversized_request(len(raw), max_bytes))
    if not raw.strip():
        return None
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"The request content was malformed:\n{exc}") from None


def _limit(request: web.Request) -> int:
    """``limit`` of list requests: 30 by default, 0 means the maximum, above it is an error."""
    limit = _number(request, "limit")
    if limit is None:
        return DEFAULT_LIST_LIMIT
    if limit > MAX_LIST_LIMIT:
        raise ApiError(
            400, f"The value '{limit}' for 'limit' exceeds the maximum of {MAX_LIST_LIMIT}."
        )
    return limit or MAX_LIST_LIMIT


def _controller(request: web.Request) -> Controller:
    """The controller, after checking the path's namespace is ours (or ``_``)."""
    controller = request.app[CONTROLLER]
    controller.check_namespace(request.match_info["ns"])
    return controller


@cache
def _project_version() -> str:
    """This project's installed version: the truthful build of this API, not OpenWhisk's."""
    try:
        return metadata.version(PROJECT)
    except metadata.PackageNotFoundError:
        return "unknown"


def api_info() -> dict[str, Any]:
    """The body of ``GET /api/v1``, shaped as OpenWhisk's controller answers it.

    OpenWhisk reports its build date and number; here both name this project's
    version. The swagger paths are OpenWhisk's own values (relative to ``/api/v1``).
    """
    version = _project_version()
    return {
        "description": "OpenWhisk API",
        "api_version": "1.0.0",
        "api_version_path": BASE.rsplit("/", 1)[-1],
        "build": f"{PROJECT} {version} (embedded platform)",
        "buildno": version,
        "swagger_paths": {"ui": "/docs", "api-docs": "/api-docs"},
    }


async def get_info(_request: web.Request) -> web.Response:
    """The API description; unauthenticated (see ``_public``)."""
    return web.json_response(api_info())


async def list_namespaces(request: web.Request) -> web.Response:
    return web.json_response([request.app[CONTROLLER].settings.namespace])


async def get_limits(request: web.Request) -> web.Response:
    return web.json_response(_controller(request).limits())


async def list_actions(request: web.Request) -> web.Response:
    controller = _controller(request)
    skip = _number(request, "skip") or 0
    return web.json_response(controller.list_actions(_limit(request), skip))


async def list_unsupported(request: web.Request) -> web.Response:
    """Packages, triggers and rules: the platform has none, so their lists are empty.

    OpenWhisk answers ``[]`` for an empty collection, and ``wsk list`` / ``wsk
    namespace get`` list all four kinds; the namespace and ``limit``/``skip`` are
    checked as for actions so a bad request fails the same way.
    """
    _controller(request)
    _limit(request)
    _number(request, "skip")
    return web.json_response([])


async def put_action(request: web.Request) -> web.Response:
    controller = _controller(request)
    overwrite = _flag(request, "overwrite")
    record = await controller.put_action(
        request.match_info["name"], await _body(request), overwrite
    )
    return web.json_response(record)


async def get_action(request: web.Request) -> web.Response:
    controller = _controller(request)
    return web.json_response(
        controller.get_action(request.match_info["name"], _flag(request, "code"))
    )


async def delete_action(request: web.Request) -> web.Response:
    controller = _controller(request)
    return web.json_response(controller.delete_action(request.match_info["name"]))


async def invoke_action(request: web.Request) -> web.Response:
    accepted = now_ms()
    controller = _controller(request)
    name = request.match_info["name"]
    body = await _body(request, controller.settings.max_payload_bytes)
    if _flag(request, "burst"):
        ids = controller.invoke_burst(
            name,
            body,
            granularity=_number(request, "granularity", minimum=1),
            join=_flag(request, "join"),
            backend=request.query.get("backend") or None,
            chunk_size=_number(request, "chunk_size", minimum=1),
            debug=_flag(request, "debug"),
            accepted_ms=accepted,
        )
        return web.json_response({"activationIds": ids}, status=202)
    blocking = _flag(request, "blocking")
    result_only = _flag(request, "result")
    wait_ms = min(_number(request, "timeout") or MAX_BLOCKING_MS, MAX_BLOCKING_MS)
    activation_id = controller.invoke(name, body, accepted)
    headers = {"x-openwhisk-activation-id": activation_id}
    record = await controller.invoker.wait(activation_id, wait_ms / 1000) if blocking else None
    if record is None:
        return web.json_response({"activationId": activation_id}, status=202, headers=headers)
    code = record["response"]["statusCode"]
    status = 200 if code == SUCCESS else 500 if code == INTERNAL_ERROR else 502
    answer = record["response"]["result"] if result_only else record
    return web.json_response(answer, status=status, headers=headers)


async def list_activations(request: web.Request) -> web.Response:
    controller = _controller(request)
    records = controller.list_activations(
        name=request.query.get("name") or None,
        since=_number(request, "since"),
        upto=_number(request, "upto"),
        limit=_limit(request),
        skip=_number(request, "skip") or 0,
        docs=_flag(request, "docs"),
    )
    return web.json_response(records)


async def get_activation(request: web.Request) -> web.Response:
    record = _controller(request).activation(request.match_info["id"])
    part = request.match_info.get("part")
    if part == "result":
        return web.json_response(record["response"])
    if part == "logs":
        return web.json_response({"logs": record["logs"]})
    if part:
        raise not_found()
    return web.json_response(record)


async def ping(_request: web.Request) -> web.Response:
    """Unauthenticated liveness probe, as the OpenWhisk controller offers."""
    return web.Response(text="pong")


def build_app(controller: Controller) -> web.Application:
    app = web.Application(middlewares=[api_middleware], client_max_size=MAX_BODY_BYTES)
    app[CONTROLLER] = controller
    ns = f"{BASE}/namespaces/{{ns}}"
    app.router.add_get("/ping", ping)
    for path in sorted(_INFO_PATHS):
        app.router.add_get(path, get_info)
    app.router.add_get(f"{BASE}/namespaces", list_namespaces)
    app.router.add_get(f"{ns}/limits", get_limits)
    app.router.add_get(f"{ns}/actions", list_actions)
    app.router.add_put(f"{ns}/actions/{{name}}", put_action)
    app.router.add_get(f"{ns}/actions/{{name}}", get_action)
    app.router.add_delete(f"{ns}/actions/{{name}}", delete_action)
    app.router.add_post(f"{ns}/actions/{{name}}", invoke_action)
    for collection in ("packages", "triggers", "rules"):
        app.router.add_get(f"{ns}/{collection}", list_unsupported)
    app.router.add_get(f"{ns}/activations", list_activations)
    app.router.add_get(f"{ns}/activations/{{id}}", get_activation)
    app.router.add_get(f"{ns}/activations/{{id}}/{{part}}", get_activation)
    return app
