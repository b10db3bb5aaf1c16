"""Running the emulator with uvicorn: in a background thread (tests) or in the foreground (CLI)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

import uvicorn

from gong_client.emulator._app import Emulator, create_app
from gong_client.emulator._state import EmulatorConfig

__all__ = ["EmulatorServer", "serve"]

_DROP_MESSAGE = "ASGI callable returned without completing response."


class _QuietDrops(logging.Filter):
    """Hide uvicorn's complaint about the responses the emulator drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _DROP_MESSAGE


def _uvicorn_server(config: EmulatorConfig, log_level: str) -> uvicorn.Server:
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level=log_level,
            access_log=False,
            http="h11",
            ws="none",
            lifespan="off",
            timeout_keep_alive=5,
            timeout_graceful_shutdown=2,
        )
    )
    server.emulator = app.state.emulator  # type: ignore[attr-defined]
    return server


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class EmulatorServer:
    """The emulator on a loopback port, served from a background thread.

    Parameters
    ----------
    config
        Emulator settings.
    host, port
        Where to listen; port 0 picks a free one.

    Examples
    --------
    >>> with EmulatorServer(EmulatorConfig(tmp, access_keys={"k": "s"})) as gong:
    ...     client = GongClient(BasicAuth("k", "s"), base_url=gong.base_url)
    """

    def __init__(self, config: EmulatorConfig, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self._sock = _bind(host, port)
        self.base_url = _url(self._sock)
        self._server = _uvicorn_server(config, "warning")
        self._thread: threading.Thread | None = None

    @property
    def emulator(self) -> Emulator:
        """The in-process emulator state (stored calls, request log)."""
        return self._server.emulator  # type: ignore[attr-defined]

    def start(self, timeout_s: float = 10.0) -> EmulatorServer:
        """Start serving and return once the port accepts connections."""
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Gong emulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(
    config: EmulatorConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    on_ready: Callable[[str], None] | None = None,
    log_level: str = "warning",
) -> None:
    """Serve the emulator in the foreground until Ctrl-C or SIGTERM.

    Parameters
    ----------
    config
        Emulator settings.
    host, port
        Where to listen (port 0 picks a free one).
    on_ready
        Called with the base URL once the port accepts connections.
    log_level
        uvicorn's log level.

    Raises
    ------
    OSError
        The address cannot be bound (e.g. the port is in use).
    """
    sock = _bind(host, port)
    server = _uvicorn_server(config, log_level)
    if on_ready is not None:
        url = _url(sock)

        def announce() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.02)
            if server.started:
                on_ready(url)

        threading.Thread(target=announce, daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
