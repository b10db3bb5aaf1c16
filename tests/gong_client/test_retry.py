"""Bounded, jittered retries on 5xx and broken connections; no retry of 400/401/403/409."""

from __future__ import annotations

import random
import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from gong_client import (
    BadRequestError,
    BasicAuth,
    ConflictError,
    GongClient,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportError,
)
from gong_client._retry import parse_retry_after_s
from tests.gong_client.helpers import (
    KEY,
    SECRET,
    away_from_utc_midnight,
    logged_requests,
    make_call,
    sha256_of,
    write_audio,
)


class Sleeps(list):
    """Records the backoff delays instead of sleeping them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_backoff_grows_with_equal_jitter_and_is_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=4.0)
    rng = random.Random(1)
    for failures, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        delays = [policy.backoff_s(failures, rng) for _ in range(200)]
        assert min(delays) >= cap / 2 and max(delays) <= cap
        assert max(delays) - min(delays) > cap / 4, "the delay must be jittered"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0", 0.0), ("-5", 0.0), ("1.5", 1.5), (None, None), ("soon", None)],
)
def test_retry_after_values(value, expected) -> None:
    assert parse_retry_after_s(value) == expected


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    header = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after_s(header, now_s=now.timestamp()) == pytest.approx(90.0)


def test_server_errors_are_retried_a_bounded_number_of_times(start_emulator, make_client) -> None:
    server = start_emulator(fail_rate=1.0, seed=1, limit_per_s=50)
    sleeps = Sleeps()
    client = make_client(server, retry=RetryPolicy(max_attempts=4), sleep=sleeps, rate_per_s=50)
    with pytest.raises(ServerError) as caught:
        client.add_call(make_call("always-500"))
    log = logged_requests(server.base_url)
    assert [r["status"] for r in log] == [500] * 4
    assert len(sleeps) == 3 and sleeps[0] < sleeps[1] < sleeps[2]
    assert caught.value.request_id == log[-1]["requestId"]


def test_dropped_connections_are_retried_then_reported(start_emulator, make_client) -> None:
    server = start_emulator(drop_rate=1.0, seed=2, limit_per_s=50)
    client = make_client(server, retry=RetryPolicy(max_attempts=3), sleep=Sleeps(), rate_per_s=50)
    with pytest.raises(TransportError) as caught:
        client.add_call(make_call("always-dropped"))
    assert caught.value.attempts == 3
    assert caught.value.cause in {"RemoteProtocolError", "ReadError"}
    assert [r["fault"] for r in logged_requests(server.base_url)] == ["drop"] * 3


def test_refused_connection_is_retried_then_reported(tmp_path) -> None:
    with socket.socket() as probe:  # a port on which nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    client = GongClient(
        BasicAuth(KEY, SECRET),
        base_url=f"http://127.0.0.1:{port}",
        retry=RetryPolicy(max_attempts=3),
        sleep=sleeps,
        state_dir=tmp_path,
    )
    with client, pytest.raises(TransportError) as caught:
        client.add_call(make_call("nobody-home"))
    assert caught.value.cause == "ConnectError" and caught.value.attempts == 3
    assert len(sleeps) == 2


def test_some_failures_then_success_without_duplicates(start_emulator, make_client) -> None:
    server = start_emulator(fail_rate=0.5, drop_rate=0.2, seed=5, limit_per_s=50)
    client = make_client(server, retry=RetryPolicy(max_attempts=10), sleep=Sleeps(), rate_per_s=50)
    ids = [client.add_call(make_call(f"flaky-{i}")) for i in range(5)]
    calls = {c["clientUniqueId"]: c["callId"] for c in server.emulator.store.all()}
    assert calls == {f"flaky-{i}": ids[i] for i in range(5)}
    log = [(r["method"], r["status"], r["fault"]) for r in logged_requests(server.base_url)]
    # a POST answered 500 or dropped *after* the call was created: the retry meets 409, and
    # the callId is found again by listing, instead of a duplicate or a lost call
    assert ("POST", 409, None) in log and ("GET", 200, None) in log


def test_a_failed_lookup_of_a_possibly_created_call_is_transient(
    start_emulator, make_client, tmp_path
) -> None:
    # seed 90 draws: POST 500 after creating the call, POST clean (409), GET 500, GET 500,
    # then clean answers
    server = start_emulator(fail_rate=0.5, seed=90, limit_per_s=50)
    client = make_client(server, retry=RetryPolicy(max_attempts=2), sleep=Sleeps(), rate_per_s=50)
    audio = write_audio(tmp_path / "a.wav", seconds=1)
    with pytest.raises(ServerError, match="run the upload again") as caught:
        client.upload_call(audio, make_call("lookup-failed"))
    assert caught.value.method == "GET"  # not a ConflictError sending the user to search Gong
    log = [(r["method"], r["status"]) for r in logged_requests(server.base_url)]
    assert log == [("POST", 500), ("POST", 409), ("GET", 500), ("GET", 500)]
    assert client.journal.get(server.base_url, "lookup-failed").state == "posting"
    result = client.upload_call(audio, make_call("lookup-failed"))  # the user runs it again
    [call] = server.emulator.store.all()
    assert result.call_id == call["callId"] and call["media"]["sha256"] == sha256_of(audio)
    posts = [r["status"] for r in logged_requests(server.base_url) if r["method"] == "POST"]
    assert posts == [500, 409, 409]


def test_bad_request_is_not_retried(emulator, make_client) -> None:
    client = make_client(emulator, validate=False)
    with pytest.raises(BadRequestError) as caught:
        client.add_call(make_call("bad", direction="Sideways"))
    assert len(logged_requests(emulator.base_url)) == 1
    assert any("direction" in e for e in caught.value.errors)


def test_conflict_is_not_retried(emulator, make_client) -> None:
    client = make_client(emulator)
    client.add_call(make_call("twice"))
    with pytest.raises(ConflictError) as caught:
        client.add_call(make_call("twice"))
    log = logged_requests(emulator.base_url)
    assert [(r["method"], r["status"]) for r in log] == [("POST", 200), ("POST", 409)]
    assert caught.value.request_id == log[1]["requestId"]


def test_daily_limit_raises_at_once_instead_of_sleeping_for_hours(
    start_emulator, make_client
) -> None:
    away_from_utc_midnight()
    server = start_emulator(daily_limit=2)
    sleeps = Sleeps()
    client = make_client(server, sleep=sleeps)
    client.add_call(make_call("day-1"))
    client.add_call(make_call("day-2"))
    with pytest.raises(RateLimited) as caught:
        client.add_call(make_call("day-3"))
    assert caught.value.retry_after_s is not None and caught.value.retry_after_s > 120
    assert sleeps == [] and len(logged_requests(server.base_url)) == 3


def test_too_many_429s_in_a_row_give_up(start_emulator, make_client) -> None:
    server = start_emulator(throttle_rate=1.0, seed=3)
    client = make_client(server, retry=RetryPolicy(max_throttled=1))
    with pytest.raises(RateLimited) as caught:
        client.add_call(make_call("throttled"))
    log = logged_requests(server.base_url)
    assert [r["status"] for r in log] == [429, 429]
    assert log[1]["receivedMonotonicS"] - log[0]["receivedMonotonicS"] >= 1.0
    assert caught.value.retry_after_s == 1.0
