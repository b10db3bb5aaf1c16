"""The emulator's hardening, tested against the real server over loopback.

It listens on loopback by default, asks for credentials on every route, never turns a request
value into a file path, refuses oversized bodies before reading them (413), and answers a
malformed multipart body with a clean 400 (never a 500 or a traceback).
"""

from __future__ import annotations

import http.client
import inspect
import random
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.routing import Route

from gong_client.emulator import EmulatorConfig, EmulatorServer, create_app, serve
from tests.gong_client.helpers import KEY, SECRET, TOKEN, logged_requests, make_call, write_audio

AUTH = (KEY, SECRET)
ROOT = Path(__file__).resolve().parents[2]
BOUNDARY = "b0undary-4711"


def _post_call(server: EmulatorServer, cuid: str) -> str:
    response = httpx.post(f"{server.base_url}/v2/calls", json=make_call(cuid), auth=AUTH)
    assert response.status_code == 200, response.text
    return response.json()["callId"]


def _raw(server: EmulatorServer, method: str, path: str, headers: dict, body: bytes = b""):
    """Send exactly these headers and this body (which may disagree with Content-Length)."""
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders(body or None)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _basic(key: str = KEY, secret: str = SECRET) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def _no_internal_errors(server: EmulatorServer) -> None:
    log = logged_requests(server.base_url)
    assert not [r for r in log if r.get("internalError") or r["status"] == 500], log


# -- loopback by default ---------------------------------------------------------------------


def test_every_way_to_start_it_defaults_to_loopback(tmp_path: Path) -> None:
    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(EmulatorServer).parameters["host"].default == "127.0.0.1"
    with EmulatorServer(EmulatorConfig(tmp_path / "d", access_keys={KEY: SECRET})) as server:
        assert urlsplit(server.base_url).hostname == "127.0.0.1"


def _non_loopback_addresses() -> list[str]:
    psutil = pytest.importorskip("psutil")
    found = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not address.address.startswith("127."):
                found.append(address.address)
    return found


def test_the_command_listens_on_loopback_only(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "gong_client", "emulator", "--port", "0"]
        + ["--data-dir", str(tmp_path / "d"), "--access-key", KEY],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "GONG_ACCESS_KEY_SECRET": SECRET, "HOME": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = child.stdout.readline().strip() if child.stdout else ""
        assert url.startswith("http://127.0.0.1:"), (url, child.stderr and child.stderr.read())
        port = urlsplit(url).port
        assert httpx.get(f"{url}/emulator/health", auth=AUTH).json()["ok"] is True
        for address in _non_loopback_addresses():
            with socket.socket() as probe, pytest.raises(OSError):
                probe.settimeout(2)
                probe.connect((address, port))
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=20)


# -- auth on every route ---------------------------------------------------------------------


def _every_route(tmp_path: Path) -> list[tuple[str, str]]:
    app = create_app(EmulatorConfig(tmp_path / "routes"))
    found = []
    for route in app.routes:
        assert isinstance(route, Route)
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, route.path))
    return found


def test_every_route_wants_credentials(emulator, tmp_path: Path) -> None:
    call_id = _post_call(emulator, "auth-1")
    routes = _every_route(tmp_path)
    assert len(routes) >= 8
    wrong = {
        "none": {},
        "bad secret": {"Authorization": _basic(secret="guess")},
        "bad key": {"Authorization": _basic(key="guess")},
        "bad token": {"Authorization": "Bearer guess"},
        "garbage": {"Authorization": "Basic %%%"},
    }
    for method, template in routes:
        path = template.replace("{call_id}", call_id)
        for why, headers in wrong.items():
            response = httpx.request(method, emulator.base_url + path, headers=headers)
            assert response.status_code == 401, (method, path, why, response.status_code)
            assert set(response.json()) == {"requestId", "errors"}
            assert SECRET not in response.text
        good = httpx.request(method, emulator.base_url + path, auth=AUTH)
        assert good.status_code != 401, (method, path)
    bearer = httpx.get(
        f"{emulator.base_url}/emulator/calls", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert bearer.status_code == 200


# -- no path from a request value ------------------------------------------------------------


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_request_values_never_become_file_paths(start_emulator, tmp_path: Path) -> None:
    server = start_emulator(limit_per_s=50)
    outside_before = _tree(tmp_path)
    call_id = _post_call(server, "../../../escape")
    audio = write_audio(tmp_path / "a.wav").read_bytes()
    hostile_ids = ["..", "../calls", "%2E%2E%2F%2E%2E", "..%2F..%2Fetc", "/etc/passwd", "1/../2"]
    upload = _multipart(audio)
    headers = {
        "Authorization": _basic(),
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(len(upload)),
    }
    for hostile in hostile_ids + [f"{call_id}%2F..%2F..", f"{call_id}/../{call_id}"]:
        # sent as written: an HTTP library would tidy the dots away before they reach the server
        status, _ = _raw(server, "PUT", f"/v2/calls/{hostile}/media", headers, upload)
        assert status == 404, (hostile, status)
        status, _ = _raw(server, "GET", f"/emulator/calls/{hostile}", {"Authorization": _basic()})
        assert status == 404, (hostile, status)
    names = ["../../../escaped.wav", "/tmp/escaped.wav", "..\\..\\escaped.wav", "a\x00b.wav"]
    for name in names:
        response = httpx.put(
            f"{server.base_url}/v2/calls/{call_id}/media",
            files={"mediaFile": (name, audio, "audio/wav")},
            auth=AUTH,
        )
        assert response.status_code == 201, response.text
    data = _tree(server.config.data_dir)
    allowed = re.compile(r"(calls|media|tmp)(/[0-9]{1,20}\.(json|wav))?")
    assert all(allowed.fullmatch(p) for p in data), sorted(data)

    def outside(tree: set[str]) -> set[str]:
        return {p for p in tree if not p.startswith("emulator-")}

    assert outside(_tree(tmp_path)) == outside(outside_before) | {"a.wav"}
    assert not Path("/tmp/escaped.wav").exists()
    _no_internal_errors(server)


# -- bodies capped before they are read ------------------------------------------------------


def test_an_oversized_call_body_is_refused_before_it_is_sent(emulator) -> None:
    # the body is never sent: a server that waited for it would time out this request
    headers = {"Authorization": _basic(), "Content-Type": "application/json"}
    status, body = _raw(emulator, "POST", "/v2/calls", {**headers, "Content-Length": "99999999"})
    assert status == 413 and b"byte limit" in body


def test_an_oversized_media_body_is_refused_before_it_is_sent(start_emulator) -> None:
    server = start_emulator(max_media_bytes=100_000)
    call_id = _post_call(server, "big-1")
    headers = {
        "Authorization": _basic(),
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(2**40),
    }
    status, body = _raw(server, "PUT", f"/v2/calls/{call_id}/media", headers)
    assert status == 413 and b"byte limit" in body
    assert server.emulator.store.get(call_id)["media"] is None


def test_a_chunked_body_is_cut_off_at_the_cap(start_emulator, tmp_path: Path) -> None:
    server = start_emulator(max_media_bytes=100_000)
    call_id = _post_call(server, "big-2")

    def chunks():
        yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="mediaFile"; '.encode()
        yield b'filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\nRIFF'
        for _ in range(64):  # 4 MiB, far past the cap, with no Content-Length
            yield b"\0" * 65536
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    response = httpx.put(
        f"{server.base_url}/v2/calls/{call_id}/media",
        content=chunks(),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        auth=AUTH,
    )
    assert response.status_code == 413 and "limit" in response.json()["errors"][0]
    assert list((server.config.data_dir / "tmp").iterdir()) == []
    big_json = b'{"x": "' + b"a" * (11 * 2**20) + b'"}'
    refused = httpx.post(
        f"{server.base_url}/v2/calls",
        content=iter([big_json[i : i + 2**20] for i in range(0, len(big_json), 2**20)]),
        headers={"Content-Type": "application/json"},
        auth=AUTH,
    )
    assert refused.status_code == 413


# -- malformed multipart bodies --------------------------------------------------------------


def _multipart(payload: bytes, *, name: str = "mediaFile", filename: str = "a.wav") -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: audio/wav\r\n\r\n'
        ).encode()
        + payload
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


MALFORMED = {
    "garbage": b"\x00\xff" * 500,
    "no closing boundary": _multipart(b"RIFF" + b"\0" * 100)[:-20],
    "other boundary": _multipart(b"RIFF").replace(BOUNDARY.encode(), b"something-else"),
    "header without colon": f"--{BOUNDARY}\r\nnot a header\r\n\r\nRIFF\r\n".encode(),
    "endless header": f"--{BOUNDARY}\r\nX-Long: ".encode() + b"a" * 100_000,
    "many headers": f"--{BOUNDARY}\r\n".encode() + b"X-A: b\r\n" * 5000 + b"\r\nRIFF",
    "many parts": b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n'.encode()
        for i in range(100)
    )
    + f"--{BOUNDARY}--\r\n".encode(),
    "no media part": _multipart(b"RIFF", name="other"),
    "media not a file": (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="mediaFile"\r\n\r\n'
        f"RIFF\r\n--{BOUNDARY}--\r\n"
    ).encode(),
    "not audio": _multipart(b"just some text, not a recording"),
    "empty": b"",
    "only the end": f"--{BOUNDARY}--\r\n".encode(),
}


@pytest.fixture
def media_target(start_emulator):
    server = start_emulator(limit_per_s=100)
    return server, f"{server.base_url}/v2/calls/{_post_call(server, 'mp-1')}/media"


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_multipart_is_a_clean_400(media_target, case: str) -> None:
    server, url = media_target
    response = httpx.put(
        url,
        content=MALFORMED[case],
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        auth=AUTH,
    )
    assert response.status_code == 400, (case, response.status_code, response.text)
    body = response.json()
    assert set(body) == {"requestId", "errors"} and "Traceback" not in response.text
    assert list((server.config.data_dir / "tmp").iterdir()) == []
    _no_internal_errors(server)


def test_bad_content_types_and_lengths_are_400(media_target) -> None:
    server, url = media_target
    path = urlsplit(url).path
    for content_type, length in [
        ("multipart/form-data", "10"),  # no boundary
        (f"multipart/form-data; boundary={'x' * 300}", "10"),
        (f"multipart/form-data; boundary={BOUNDARY}", "ten"),
        (f"multipart/form-data; boundary={BOUNDARY}", "-5"),
    ]:
        headers = {
            "Authorization": _basic(),
            "Content-Type": content_type,
            "Content-Length": length,
        }
        status, _ = _raw(server, "PUT", path, headers)
        assert status == 400, (content_type, length, status)


def test_mutated_uploads_never_break_the_server(media_target, tmp_path: Path) -> None:
    """Seeded random damage to a valid upload: each answer is a 201 or a clean 4xx."""
    server, url = media_target
    valid = _multipart(write_audio(tmp_path / "a.wav", seconds=0.2).read_bytes())
    rng = random.Random(4711)
    statuses = []
    for _ in range(40):
        body = bytearray(valid)
        how = rng.choice(["flip", "cut", "insert"])
        spot = rng.randrange(len(body))
        if how == "flip":
            for _ in range(rng.randint(1, 8)):
                body[rng.randrange(len(body))] = rng.randrange(256)
        elif how == "cut":
            del body[spot:]
        else:
            body[spot:spot] = rng.randbytes(rng.randint(1, 200))
        response = httpx.put(
            url,
            content=bytes(body),
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            auth=AUTH,
        )
        statuses.append(response.status_code)
        assert response.status_code in (201, 400), (how, spot, response.text)
    assert 400 in statuses
    assert list((server.config.data_dir / "tmp").iterdir()) == []
    _no_internal_errors(server)
