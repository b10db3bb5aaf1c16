"""The fault campaign: many uploads, some concurrent, against an emulator that fails often.

Afterwards every call must be in the emulator exactly once with its complete media, the
request rate seen by the server must never have exceeded its limit, and running the whole
batch again must send nothing. The campaign with every kind of fault, several processes
sharing one journal and processes killed with SIGKILL is `benchmarks.reliability`: its quick
form runs here, its full form is ``python -m benchmarks reliability``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from benchmarks.reliability import CampaignSettings, format_result, run_campaign
from gong_client import RateLimiter, RetryPolicy
from tests.gong_client.helpers import (
    KEY,
    SECRET,
    logged_requests,
    make_call,
    max_in_window,
    sha256_of,
    write_audio,
)
from tests.gong_client.uploader import GAVE_UP, TRANSIENT

ROOT = Path(__file__).resolve().parents[2]
FAULTS = {
    "fail_rate": 0.15,
    "drop_rate": 0.12,
    "throttle_rate": 0.08,
    "slow_s": 0.05,
    "slow_rate": 0.2,
}


def _batch(tmp_path: Path, count: int) -> list[tuple[Path, dict]]:
    jobs = []
    for i in range(count):
        suffix = ("wav", "flac")[i % 2]
        audio = write_audio(tmp_path / f"call-{i}.{suffix}", seconds=1 + i % 3, seed=i)
        cuid = None if i % 4 == 0 else f"campaign-{i}"  # some ids derived from the content
        jobs.append((audio, make_call(cuid, second=i)))
    return jobs


def _check(server, jobs, results, limit_per_s: int, since_s: float = 0.0) -> None:
    expected = {r.client_unique_id: audio for (audio, _), r in zip(jobs, results, strict=True)}
    calls = server.emulator.store.all()
    assert Counter(c["clientUniqueId"] for c in calls) == Counter(set(expected)), "each once"
    for call in calls:
        assert call["media"] is not None, call["clientUniqueId"]
        assert call["media"]["sha256"] == sha256_of(expected[call["clientUniqueId"]])
        assert call["callId"] == next(
            r.call_id for r in results if r.client_unique_id == call["clientUniqueId"]
        )
    log = [r for r in logged_requests(server.base_url) if r["receivedMonotonicS"] >= since_s]
    assert max_in_window([r["receivedMonotonicS"] for r in log]) <= limit_per_s
    assert not [r for r in log if r.get("limit")], "the client must stay under the limit"
    faults = Counter((r["method"], r["fault"], r["faultAfter"]) for r in log if r["fault"])
    assert sum(n for (_, kind, _), n in faults.items() if kind == "drop") > 0
    assert sum(n for (_, kind, _), n in faults.items() if kind == "fail") > 0
    assert sum(n for (_, kind, _), n in faults.items() if kind == "throttle") > 0


def _run(client, jobs, threads: int):
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda job: client.upload_call(*job), jobs))


def _run_until_done(client, jobs, threads: int, passes: int = 3):
    """Upload, and run again what gave up, as a user would: the journal makes that safe.

    Giving up is a `TransportError` when the last attempt got no answer, a `ServerError` when
    it got a 5xx (or `RateLimited` after too many 429s); anything else is a real failure.
    """

    def upload(job):
        for attempt in range(passes):
            try:
                return client.upload_call(*job)
            except TRANSIENT:
                if attempt == passes - 1:
                    raise

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(upload, jobs))


def _start_until_in_media(args: list[str], env: dict, started: Path, passes: int = 3):
    """Start the uploader that hangs in its media step; again if it gave up before it."""
    for _ in range(passes):
        child = subprocess.Popen([*args, "hang-in-media"], cwd=ROOT, env=env)
        deadline = time.monotonic() + 120
        while not started.exists() and child.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        if started.exists():
            return child
        assert child.returncode == GAVE_UP
    raise AssertionError(f"the uploader gave up {passes} times before its media step")


def test_fault_campaign(start_emulator, make_client, tmp_path: Path) -> None:
    limit = 6
    server = start_emulator(limit_per_s=limit, seed=20240514, **FAULTS)
    policy = RetryPolicy(max_attempts=8, base_delay_s=0.05, max_delay_s=0.5)
    limiter = RateLimiter(limit, margin_s=0.25)  # the test machine may be busy: wider margin
    client = make_client(server, limiter=limiter, retry=policy, seed=1, timeout_s=5.0)
    jobs = _batch(tmp_path, 16)
    results = _run(client, jobs[:4], 1) + _run(client, jobs[4:], 4)
    _check(server, jobs, results, limit)
    before = len(logged_requests(server.base_url))
    again = _run(make_client(server, rate_per_s=limit), jobs, 4)
    assert all(r.already_uploaded for r in again)
    assert len(logged_requests(server.base_url)) == before


@pytest.mark.slow
def test_fault_campaign_at_gongs_default_limit_with_a_killed_process(
    start_emulator, make_client, tmp_path: Path
) -> None:
    server = start_emulator(seed=7, **FAULTS)  # 3 requests/s, as Gong
    # first a process killed in the middle of its media step, and the run that resumes it
    killed_audio = write_audio(tmp_path / "killed.wav", seconds=120, seed=99)
    env = {**os.environ, "GONG_ACCESS_KEY": KEY, "GONG_ACCESS_KEY_SECRET": SECRET}
    args = [sys.executable, "-m", "tests.gong_client.uploader", server.base_url,
            str(tmp_path / "state"), str(killed_audio), "campaign-killed"]  # fmt: skip
    child = _start_until_in_media(args, env, Path(f"{killed_audio}.started"))
    child.kill()
    child.wait()
    for _ in range(3):  # each pass may give up on the faults, as the in-process uploads may
        rerun = subprocess.run([*args, "normal"], cwd=ROOT, env=env, capture_output=True, text=True)
        if rerun.returncode != GAVE_UP:
            break
    assert rerun.returncode == 0, rerun.stderr
    # then the batch, through one client with the default rate and retry policy
    time.sleep(1.1)  # the other processes' requests do not count against this client
    campaign_start_s = time.monotonic()
    client = make_client(server, seed=2)
    jobs = _batch(tmp_path, 40)
    # default retry policy: with 27% of answers faulty, a request can exhaust its attempts
    results = _run_until_done(client, jobs[:5], 1) + _run_until_done(client, jobs[5:], 6)
    jobs.append((killed_audio, make_call("campaign-killed")))
    results.append(client.upload_call(killed_audio, make_call("campaign-killed")))
    assert results[-1].already_uploaded
    _check(server, jobs, results, 3, since_s=campaign_start_s)


def _assert_campaign(settings: CampaignSettings, work: Path) -> None:
    result = run_campaign(settings, work)
    assert not result.problems, format_result(result)
    assert result.calls == settings.calls
    assert (result.calls_lost, result.duplicates, result.media_mismatches) == (0, 0, 0)
    assert result.journal_disagreements == 0 and result.requests_on_rerun == 0
    assert result.max_admitted_per_s <= settings.limit_per_s
    assert result.kills == settings.kills
    for kind in ("fail", "drop", "cut", "throttle", "slow"):
        assert result.faults_injected.get(kind, 0) > 0, (kind, result.faults_injected)


@pytest.mark.timeout(300)
def test_campaign_with_processes_kills_cut_uploads_bursts_and_timeouts(tmp_path: Path) -> None:
    _assert_campaign(CampaignSettings.quick(seed=3), tmp_path)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_campaign_full(tmp_path: Path) -> None:
    _assert_campaign(CampaignSettings(), tmp_path)


def test_an_injected_429_starts_a_burst_with_retry_after(start_emulator) -> None:
    server = start_emulator(throttle_rate=1.0, throttle_burst_s=3.0, limit_per_s=50, seed=1)
    answers = [
        httpx.post(f"{server.base_url}/v2/calls", json=make_call(f"b-{i}"), auth=(KEY, SECRET))
        for i in range(5)
    ]
    assert [a.status_code for a in answers] == [429] * 5
    waits = [int(a.headers["Retry-After"]) for a in answers]
    assert waits[0] == 3 and all(1 <= w <= 3 for w in waits)
    assert server.emulator.store.all() == []


def test_a_cut_drops_the_connection_part_way_through_the_media(
    start_emulator, make_client, tmp_path: Path
) -> None:
    from gong_client.errors import TransportError

    server = start_emulator(limit_per_s=50, seed=5)
    client = make_client(server, retry=RetryPolicy(max_attempts=1))
    call_id = client.add_call(make_call("cut-1"))
    server.emulator.faults._config = replace(server.config, cut_rate=1.0)
    audio = write_audio(tmp_path / "long.wav", seconds=60, sample_rate=16000)  # ~2 MB
    with pytest.raises(TransportError):
        client.add_call_media(call_id, audio)
    assert server.emulator.store.get(call_id)["media"] is None
    cut = [r for r in logged_requests(server.base_url) if r["fault"] == "cut"]
    assert cut and 0 <= cut[0]["cutAfterBytes"] <= audio.stat().st_size + 4096
    assert list((server.config.data_dir / "tmp").iterdir()) == []
