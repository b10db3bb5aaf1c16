"""The emulator's HTTP application (Starlette): Gong's call-upload endpoints and read-backs.

Every ``/v2/`` request goes through the same gate, in this order: auth (401, or 403 for a
revoked token), the company-wide limits (429 with ``Retry-After``), the drawn fault (an
injected 429, a 500 or a dropped connection before processing; a delay), the handler, and
the drawn fault after processing (a 500 or a drop although the work was done). Everything is
logged for ``GET /emulator/requests``, and counted per second for ``GET /emulator/rate``. The
``/emulator/`` read-back routes need the same credentials but count against no limit and
suffer no faults.

Hardening: no route builds a file path from a request value (call ids are looked up, never
joined); bodies are capped before they are read (``Content-Length`` first, then while
streaming: 413); a handler that fails unexpectedly answers a logged 500 in Gong's shape.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gong_client.emulator._calls import add_call, add_media, list_calls
from gong_client.emulator._context import Context, DroppedResponse, gong_error, new_context
from gong_client.emulator._state import (
    CompanyLimits,
    EmulatorConfig,
    Faults,
    RateRecord,
    RequestLog,
    Store,
)

__all__ = ["Emulator", "create_app"]

logger = logging.getLogger("gong_client.emulator")


class Emulator:
    """The emulator's state: configuration, stored calls, limits, faults and request log."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = Store(config.data_dir)
        self.limits = CompanyLimits(config.limit_per_s, config.daily_limit)
        self.faults = Faults(config)
        self.log = RequestLog()
        self.rate = RateRecord()

    def authorise(self, header: str | None) -> tuple[int, str] | None:
        """Return ``None`` when the header carries accepted credentials, else (status, why)."""
        scheme, _, value = (header or "").partition(" ")
        value = value.strip()
        if scheme.lower() == "basic" and value:
            try:
                key, sep, secret = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return 401, "malformed Basic credentials"
            expected = self.config.access_keys.get(key)
            if sep and expected is not None and hmac.compare_digest(secret, expected):
                return None
            return 401, "access denied: unknown access key or wrong secret"
        if scheme.lower() == "bearer" and value:
            if value in self.config.revoked_tokens:
                return 403, "access denied: the token was revoked or belongs to another region"
            if any(hmac.compare_digest(value, t) for t in self.config.bearer_tokens):
                return None
            return 401, "access denied: unknown bearer token"
        return 401, "access denied: missing Authorization header"


Handler = Callable[[Emulator, Request, Context], Awaitable[Response]]


def _gated(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        emulator: Emulator = request.app.state.emulator
        ctx = new_context(request.method, request.url.path)
        emulator.rate.add("arrived", ctx.received_mono_s, ctx.received_at)
        response = _gate(emulator, request, ctx)
        if response is None:
            if ctx.fault.slow_s and not ctx.fault.slow_after:
                await asyncio.sleep(ctx.fault.slow_s)
            try:
                response = await handler(emulator, request, ctx)
            except Exception as exc:  # a bug of the emulator: say so, in Gong's shape
                logger.exception("the emulator failed on %s %s", ctx.method, ctx.path)
                ctx.notes["internalError"] = type(exc).__name__
                response = gong_error(ctx, 500, "internal error of the emulator")
            if ctx.fault.slow_s and ctx.fault.slow_after:
                await asyncio.sleep(ctx.fault.slow_s)
            if ctx.fault.after and ctx.fault.kind == "fail":
                response = gong_error(ctx, 500, "injected failure after the request was processed")
            elif ctx.fault.after and ctx.fault.kind == "drop":
                response = DroppedResponse()
        _record(emulator, ctx, response)
        return response

    return endpoint


def _gate(emulator: Emulator, request: Request, ctx: Context) -> Response | None:
    refused = emulator.authorise(request.headers.get("authorization"))
    if refused is not None:
        return gong_error(ctx, refused[0], refused[1])
    ctx.auth = "ok"
    retry_after_s = emulator.limits.admit()
    if retry_after_s is not None:
        ctx.notes["limit"] = "company"
        return gong_error(
            ctx, 429, "API request limit exceeded", headers={"Retry-After": str(retry_after_s)}
        )
    emulator.rate.add("admitted", ctx.received_mono_s, ctx.received_at)
    ctx.fault = emulator.faults.draw()
    kind = ctx.fault.kind
    if kind == "throttle":
        retry_after = {"Retry-After": str(ctx.fault.retry_after_s)}
        return gong_error(ctx, 429, "API request limit exceeded", headers=retry_after)
    if kind == "cut" and not request.url.path.endswith("/media"):
        return DroppedResponse()
    if kind == "fail" and not ctx.fault.after:
        return gong_error(ctx, 500, "injected failure before the request was processed")
    if kind == "drop" and not ctx.fault.after:
        return DroppedResponse()
    return None


def _record(emulator: Emulator, ctx: Context, response: Response) -> None:
    dropped = isinstance(response, DroppedResponse)
    body: Any = None
    if not dropped and getattr(response, "body", None):
        try:
            body = json.loads(response.body)
        except ValueError:
            body = None
    emulator.log.add(
        {
            "requestId": ctx.request_id,
            "method": ctx.method,
            "path": ctx.path,
            "receivedAt": ctx.received_at,
            "receivedMonotonicS": ctx.received_mono_s,
            "status": None if dropped else response.status_code,
            "fault": ctx.fault.kind,
            "faultAfter": ctx.fault.after,
            "retryAfter": None if dropped else response.headers.get("retry-after"),
            "authorized": ctx.auth == "ok",
            "response": body,
            **ctx.notes,
        }
    )


# -- read-back endpoints for tests ----------------------------------------------------------

ReadBack = Callable[[Request], Awaitable[Response]]


def _authorised(handler: ReadBack) -> ReadBack:
    """A read-back route: the API's credentials are required, nothing else applies."""

    async def endpoint(request: Request) -> Response:
        refused = request.app.state.emulator.authorise(request.headers.get("authorization"))
        if refused is not None:
            ctx = new_context(request.method, request.url.path)
            return gong_error(ctx, refused[0], refused[1])
        return await handler(request)

    return endpoint


async def _emulator_calls(request: Request) -> Response:
    store = request.app.state.emulator.store
    return JSONResponse({"calls": store.all()})


async def _emulator_call(request: Request) -> Response:
    record = request.app.state.emulator.store.get(request.path_params["call_id"])
    if record is None:
        return JSONResponse({"errors": ["no such call"]}, 404)
    return JSONResponse(record)


async def _emulator_requests(request: Request) -> Response:
    return JSONResponse({"requests": request.app.state.emulator.log.items()})


async def _emulator_rate(request: Request) -> Response:
    emulator = request.app.state.emulator
    return JSONResponse(
        {
            "limitPerS": emulator.config.limit_per_s,
            "faultsInjected": dict(emulator.faults.counts),
            **emulator.rate.summary(),
        }
    )


async def _emulator_health(request: Request) -> Response:
    return JSONResponse({"ok": True, "calls": len(request.app.state.emulator.store.all())})


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    ctx = new_context(request.method, request.url.path)
    what = "method not allowed" if status == 405 else "no such endpoint"
    return gong_error(ctx, status, f"{what}: {request.method} {request.url.path}")


def create_app(config: EmulatorConfig) -> Starlette:
    """Build the emulator's ASGI application.

    Parameters
    ----------
    config
        Keys, limits, faults and the data directory.

    Returns
    -------
    Starlette
        The app; its ``state.emulator`` is the `Emulator`.
    """
    routes = [
        Route("/v2/calls", _gated(add_call), methods=["POST"]),
        Route("/v2/calls", _gated(list_calls), methods=["GET"]),
        Route("/v2/calls/{call_id}/media", _gated(add_media), methods=["PUT"]),
        Route("/emulator/calls", _authorised(_emulator_calls), methods=["GET"]),
        Route("/emulator/calls/{call_id}", _authorised(_emulator_call), methods=["GET"]),
        Route("/emulator/requests", _authorised(_emulator_requests), methods=["GET"]),
        Route("/emulator/rate", _authorised(_emulator_rate), methods=["GET"]),
        Route("/emulator/health", _authorised(_emulator_health), methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_found})
    app.state.emulator = Emulator(config)
    return app
