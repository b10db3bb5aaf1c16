"""The shared request limiter: unit checks on a fake clock, then as seen by the emulator."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gong_client import RateLimiter
from tests.gong_client.helpers import logged_requests, make_call, max_in_window


class FakeTime:
    """A clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now_s = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_s += seconds


def test_burst_goes_at_once_then_waits_for_the_window_and_margin() -> None:
    t = FakeTime()
    limiter = RateLimiter(3, margin_s=0.1, clock=t.clock, sleep=t.sleep)
    starts = []
    for _ in range(7):
        limiter.acquire()
        starts.append(t.now_s - 100.0)
    assert starts[:3] == [0.0, 0.0, 0.0]
    assert starts[3:6] == pytest.approx([1.1, 1.1, 1.1])
    assert starts[6] == pytest.approx(2.2)


def test_slow_rates_use_a_longer_window() -> None:
    t = FakeTime()
    limiter = RateLimiter(0.5, margin_s=0.0, clock=t.clock, sleep=t.sleep)
    assert limiter.burst == 1 and limiter.window_s == 2.0
    limiter.acquire()
    assert limiter.acquire() == pytest.approx(2.0)


def test_pause_holds_everyone_and_never_shrinks() -> None:
    t = FakeTime()
    limiter = RateLimiter(10, clock=t.clock, sleep=t.sleep)
    limiter.pause_for(5.0)
    limiter.pause_for(1.0)
    assert limiter.acquire() == pytest.approx(5.0)


@pytest.mark.parametrize("bad", [{"rate_per_s": 0}, {"rate_per_s": -1}, {"margin_s": -0.1}])
def test_bad_settings_are_misuse(bad: dict) -> None:
    with pytest.raises(ValueError):
        RateLimiter(**{"rate_per_s": 3, **bad})


def test_threads_sharing_a_limiter_never_exceed_it() -> None:
    limiter = RateLimiter(20, margin_s=0.05)
    starts: list[float] = []
    lock = threading.Lock()

    def work(_: int) -> None:
        for _ in range(6):
            limiter.acquire()
            with lock:
                starts.append(time.monotonic())

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(work, range(6)))
    assert len(starts) == 36
    assert max_in_window(starts, 1.0) <= 20
    assert max(starts) - min(starts) >= 1.0  # 36 starts at 20/s need more than one window


def test_server_never_sees_more_than_the_limit(start_emulator, make_client) -> None:
    server = start_emulator(limit_per_s=5)
    # a wider margin than the default 0.1 s: the test machine may be busy with other work
    client = make_client(server, limiter=RateLimiter(5, margin_s=0.25))
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda i: client.add_call(make_call(f"rate-{i}")), range(14)))
    assert len(set(ids)) == 14
    log = logged_requests(server.base_url)
    assert [r["status"] for r in log] == [200] * 14, "no request may be refused with 429"
    assert max_in_window([r["receivedMonotonicS"] for r in log]) <= 5


def test_retry_after_is_honoured_when_the_client_is_too_fast(start_emulator, make_client) -> None:
    server = start_emulator(limit_per_s=3)
    client = make_client(server, rate_per_s=50)
    ids = [client.add_call(make_call(f"fast-{i}")) for i in range(6)]
    assert len(set(ids)) == 6
    log = logged_requests(server.base_url)
    refused = [r for r in log if r["status"] == 429]
    assert refused, "a client at 50/s must meet the 3/s limit"
    for r in refused:
        assert r["retryAfter"] == "1" and r["response"]["requestId"]
        later = [x["receivedMonotonicS"] for x in log if x["seq"] > r["seq"]]
        assert min(later) >= r["receivedMonotonicS"] + 1.0 - 0.01
    assert max_in_window([r["receivedMonotonicS"] for r in log if r["status"] == 200]) <= 3
