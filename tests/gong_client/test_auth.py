"""Basic and Bearer auth against the emulator, and secrets that never show."""

from __future__ import annotations

import base64
import json
import logging
import pickle
from pathlib import Path

import pytest

from gong_client import (
    AuthError,
    BasicAuth,
    BearerAuth,
    ConfigError,
    GongClient,
    GongError,
    auth_from_env,
    read_token_response,
)
from tests.gong_client.helpers import (
    KEY,
    REVOKED,
    SECRET,
    TOKEN,
    logged_requests,
    make_call,
    write_audio,
)


def test_basic_auth_creates_a_call(emulator, make_client) -> None:
    call_id = make_client(emulator).add_call(make_call("basic-1"))
    assert call_id.isdigit()


def test_bearer_auth_creates_a_call(emulator, make_client) -> None:
    call_id = make_client(emulator, auth=BearerAuth(TOKEN)).add_call(make_call("bearer-1"))
    assert call_id.isdigit()


@pytest.mark.parametrize(
    ("auth", "status"),
    [
        (BasicAuth(KEY, "wrong-secret"), 401),
        (BasicAuth("unknown-key", SECRET), 401),
        (BearerAuth("not-a-known-token"), 401),
        (BearerAuth(REVOKED), 403),
    ],
    ids=["wrong-secret", "unknown-key", "unknown-token", "revoked-token"],
)
def test_rejected_credentials_raise_auth_error_with_request_id_once(
    emulator, make_client, auth, status
) -> None:
    client = make_client(emulator, auth=auth)
    with pytest.raises(AuthError) as caught:
        client.add_call(make_call("denied"))
    log = logged_requests(emulator.base_url)
    assert len(log) == 1, "401/403 must not be retried"
    assert caught.value.status_code == status
    assert caught.value.request_id == log[0]["requestId"]
    assert log[0]["requestId"] in str(caught.value)


def test_auth_from_env_picks_the_right_kind() -> None:
    basic = auth_from_env({"GONG_ACCESS_KEY": KEY, "GONG_ACCESS_KEY_SECRET": SECRET})
    assert isinstance(basic, BasicAuth)
    assert isinstance(auth_from_env({"GONG_BEARER_TOKEN": TOKEN}), BearerAuth)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no Gong credentials"),
        ({"GONG_ACCESS_KEY": KEY}, "GONG_ACCESS_KEY_SECRET is not set"),
        ({"GONG_ACCESS_KEY_SECRET": SECRET}, "GONG_ACCESS_KEY is not set"),
        ({"GONG_BEARER_TOKEN": TOKEN, "GONG_ACCESS_KEY": KEY}, "both"),
    ],
)
def test_auth_from_env_refuses_missing_or_mixed_credentials(env, message) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        auth_from_env(env)
    assert SECRET not in str(caught.value) and TOKEN not in str(caught.value)


def test_client_reads_credentials_and_base_url_from_the_environment(emulator) -> None:
    env = {
        "GONG_ACCESS_KEY": KEY,
        "GONG_ACCESS_KEY_SECRET": SECRET,
        "GONG_BASE_URL": emulator.base_url,
    }
    with GongClient(env=env) as client:
        assert client.base_url == emulator.base_url
        assert client.add_call(make_call("from-env")).isdigit()


def test_oauth_token_response_gives_token_and_tenant_url(emulator, tmp_path: Path) -> None:
    token_file = tmp_path / "token.json"
    token_file.write_text(
        json.dumps({"access_token": TOKEN, "api_base_url_for_customer": emulator.base_url})
    )
    token = read_token_response(token_file)
    with GongClient(token, env={}, state_dir=tmp_path / "state") as client:
        assert client.base_url == emulator.base_url
        assert client.add_call(make_call("oauth-1")).isdigit()
    assert TOKEN not in repr(token)


def test_unreadable_token_response_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "token.json"
    bad.write_text('{"token_type": "bearer"}')
    with pytest.raises(ConfigError, match="access_token"):
        read_token_response(bad)


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def test_secrets_never_appear_in_reprs_errors_or_logs(
    emulator, make_client, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    header_value = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    forbidden = [SECRET, TOKEN, header_value, "wrong-secret-xyz"]
    caplog.set_level(logging.DEBUG)
    good = make_client(emulator)
    bad = make_client(emulator, auth=BasicAuth(KEY, "wrong-secret-xyz"))
    bearer = make_client(emulator, auth=BearerAuth(TOKEN))
    audio = write_audio(tmp_path / "a.wav")
    good.upload_call(audio, make_call("secret-test"))
    bearer.add_call(make_call("secret-test-2"))
    texts = [repr(good), repr(bad), repr(bearer), repr(good.auth), repr(bearer.auth)]
    for attempt in (lambda: bad.add_call(make_call("x")), lambda: bad.upload_call(audio, {})):
        with pytest.raises(GongError) as caught:
            attempt()
        texts += [f"{e!s} {e!r} {getattr(e, '__dict__', '')}" for e in _chain(caught.value)]
    texts.append(caplog.text)
    for text in texts:
        for secret in forbidden:
            assert secret not in text
    with pytest.raises(TypeError):
        pickle.dumps(good.auth)
