"""One emulated API request: its id, timing and fault, and Gong's error shape."""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from gong_client.emulator._state import Fault

__all__ = ["Context", "DroppedResponse", "gong_error", "new_context", "new_request_id"]

_ID_CHARS = string.ascii_lowercase + string.digits


@dataclass
class Context:
    """One API request on its way through the gate."""

    request_id: str
    method: str
    path: str
    received_at: float
    received_mono_s: float
    fault: Fault = field(default_factory=Fault)
    auth: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def new_context(method: str, path: str) -> Context:
    """Start the context of a request that just arrived."""
    return Context(new_request_id(), method, path, time.time(), time.monotonic())


def new_request_id() -> str:
    """A Gong-like request id: 19 lower-case letters and digits."""
    return "".join(secrets.choice(_ID_CHARS) for _ in range(19))


def gong_error(
    ctx: Context, status: int, *errors: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Gong's error shape: ``{requestId, errors: [...]}``."""
    return JSONResponse(
        {"requestId": ctx.request_id, "errors": list(errors)}, status, headers=headers
    )


class DroppedResponse(Response):
    """Sends a status line and headers, then ends without a body: the server closes the
    connection, and the client sees it dropped mid-response."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
