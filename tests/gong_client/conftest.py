"""Fixtures for the gong_client tests: a real emulator on a free loopback port, real audio."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gong_client import BasicAuth, GongClient
from gong_client.emulator import EmulatorConfig, EmulatorServer
from tests.gong_client.helpers import KEY, REVOKED, SECRET, TOKEN

_ENV = (
    "GONG_ACCESS_KEY",
    "GONG_ACCESS_KEY_SECRET",
    "GONG_BEARER_TOKEN",
    "GONG_BASE_URL",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials, proxies or user state from the machine running the tests."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


StartEmulator = Callable[..., EmulatorServer]


@pytest.fixture
def start_emulator(tmp_path: Path) -> Iterator[StartEmulator]:
    """Start emulators (keyword arguments override `EmulatorConfig`); all stop at teardown."""
    servers: list[EmulatorServer] = []

    def start(**overrides: object) -> EmulatorServer:
        settings: dict = {
            "data_dir": tmp_path / f"emulator-{len(servers)}",
            "access_keys": {KEY: SECRET},
            "bearer_tokens": frozenset({TOKEN}),
            "revoked_tokens": frozenset({REVOKED}),
        }
        settings.update(overrides)
        server = EmulatorServer(EmulatorConfig(**settings)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def emulator(start_emulator: StartEmulator) -> EmulatorServer:
    """An emulator with the default limits (3/s) and no faults."""
    return start_emulator()


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., GongClient]]:
    """Build clients for an emulator (keyword arguments go to `GongClient`); closed at teardown."""
    clients: list[GongClient] = []

    def make(server: EmulatorServer, **kwargs: object) -> GongClient:
        settings: dict = {"base_url": server.base_url, "state_dir": tmp_path / "state"}
        settings.update(kwargs)
        auth = settings.pop("auth", BasicAuth(KEY, SECRET))
        client = GongClient(auth, **settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
