"""The upload fault campaign: many uploads against an emulator that fails in every way it can.

``python -m benchmarks reliability [--calls 120] [--processes 3] [--kills 6] [--seed 1]``

The emulator (a real HTTP server on loopback) answers random 500s, drops connections (before
or after doing the work, and part-way through a media body), answers bursts of 429 with
``Retry-After``, and is sometimes slower than the client's timeouts. Against it:

1. threads of one process upload a first share of the calls;
2. several processes upload the rest, all of them every call in a different order, sharing
   one journal (a call that another live process holds is tried again later);
3. one more process is killed with SIGKILL at seeded random moments and started again, until
   its calls are done.

A call that gives up for now (no usable answer after its attempts) is tried again, as a user
would run the command again. Afterwards the emulator must hold every call exactly once, with
byte-identical media, the journal must agree with it, the rate admitted by the server must
never have passed its limit, and uploading everything again must send nothing. `run_campaign`
returns the figures; the quick form runs in the default tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

__all__ = ["CampaignSettings", "run_campaign"]

ROOT = Path(__file__).resolve().parents[1]
KEY, SECRET = "campaign-key", "campaign-secret-never-logged"


@dataclass(frozen=True)
class CampaignSettings:
    """How big and how hostile a campaign is (defaults: the full form)."""

    calls: int = 120
    threads: int = 4
    processes: int = 3
    kills: int = 6
    limit_per_s: int = 3
    fail_rate: float = 0.12
    drop_rate: float = 0.08
    cut_rate: float = 0.06
    throttle_rate: float = 0.04
    throttle_burst_s: float = 2.0
    slow_s: float = 1.5
    slow_rate: float = 0.04
    client_timeout_s: float = 1.0
    seed: int = 1
    deadline_s: float = 1800.0

    @classmethod
    def quick(cls, seed: int = 1) -> CampaignSettings:
        """A few seconds' worth: every kind of fault, two processes, two kills."""
        return cls(calls=16, threads=3, processes=2, kills=2, limit_per_s=8, seed=seed,
                   slow_s=1.2, deadline_s=240.0)  # fmt: skip


@dataclass
class CampaignResult:
    """The figures of one campaign; `problems` is empty when every promise held."""

    settings: dict
    calls: int = 0
    requests: int = 0
    faults_injected: dict = field(default_factory=dict)
    kills: int = 0
    reruns: int = 0
    calls_lost: int = 0
    duplicates: int = 0
    media_mismatches: int = 0
    journal_disagreements: int = 0
    requests_on_rerun: int = 0
    max_admitted_per_s: int = 0
    max_arrived_per_s: int = 0
    limit_per_s: int = 0
    wall_s: float = 0.0
    problems: list[str] = field(default_factory=list)


def _make_jobs(folder: Path, count: int, seed: int) -> list[dict]:
    """Distinct short recordings (WAV and FLAC) and their call bodies."""
    rng = np.random.default_rng(seed)
    jobs = []
    for i in range(count):
        suffix = ("wav", "flac")[i % 2]
        rate = (8000, 16000)[i % 3 == 0]
        seconds = 0.5 + (i % 4) * 0.5
        t = np.arange(int(seconds * rate)) / rate
        data = 0.2 * np.sin(2 * np.pi * (180 + 7 * i) * t) + 0.01 * rng.standard_normal(len(t))
        audio = folder / f"campaign-{i:04d}.{suffix}"
        sf.write(audio, data.astype(np.float32), rate)
        call = {
            "actualStart": f"2024-05-14T15:{(i // 60) % 60:02d}:{i % 60:02d}Z",
            "direction": "Outbound",
            "primaryUser": "234599484848423",
            "title": f"campaign call {i}",
            "parties": [
                {"partyId": "1", "userId": "234599484848423", "name": "Dana Whitfield"},
                {"partyId": "2", "name": "Sam Okafor", "phoneNumber": "+1 212-555-0199"},
            ],
        }
        if i % 4:  # a quarter take the id derived from the recording's content
            call["clientUniqueId"] = f"campaign-{seed}-{i}"
        jobs.append({"audio": str(audio), "call": call})
    return jobs


def _client(base_url: str, state_dir: str, timeout_s: float, seed: int, rate_per_s: float):
    from gong_client import BasicAuth, GongClient, RetryPolicy

    policy = RetryPolicy(max_attempts=5, base_delay_s=0.05, max_delay_s=0.5)
    return GongClient(
        BasicAuth(KEY, SECRET),
        base_url=base_url,
        state_dir=state_dir,
        rate_per_s=rate_per_s,
        retry=policy,
        timeout_s=timeout_s,
        media_timeout_s=timeout_s,
        seed=seed,
    )


def upload_until_done(client, jobs: list[dict], threads: int, deadline_s: float) -> int:
    """Upload every job, trying again what gave up for now or is held by another process.

    Returns
    -------
    int
        How many times an upload was started again.
    """
    from gong_client.errors import JournalError, RateLimited, ServerError, TransportError

    again = (TransportError, ServerError, RateLimited, JournalError)
    stop_at = time.monotonic() + deadline_s
    reruns = Counter()

    def upload(job: dict) -> None:
        while True:
            try:
                client.upload_call(job["audio"], job["call"])
                return
            except again as exc:
                if isinstance(exc, JournalError) and "another process" not in str(exc):
                    raise
                if time.monotonic() > stop_at:
                    raise
                reruns[job["audio"]] += 1
                time.sleep(0.2 if isinstance(exc, JournalError) else 0.05)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(upload, jobs))
    return sum(reruns.values())


def _worker(argv: list[str]) -> int:
    """``python -m benchmarks.reliability worker URL STATE JOBS TIMEOUT SEED THREADS RATE``."""
    base_url, state_dir, jobs_file, timeout_s, seed, threads, rate = argv
    jobs = json.loads(Path(jobs_file).read_text())
    with _client(base_url, state_dir, float(timeout_s), int(seed), float(rate)) as client:
        print("ready", flush=True)
        reruns = upload_until_done(client, jobs, int(threads), 600.0)
    print(json.dumps({"reruns": reruns}), flush=True)
    return 0


def _spawn(
    base_url: str, state: Path, jobs: list[dict], work: Path, tag: str, s
) -> subprocess.Popen:
    jobs_file = work / f"jobs-{tag}.json"
    jobs_file.write_text(json.dumps(jobs))
    args = [sys.executable, "-m", "benchmarks.reliability", "worker", base_url, str(state),
            str(jobs_file), str(s.client_timeout_s), str(s.seed * 1000 + len(tag) + ord(tag[-1])),
            "2", str(s.limit_per_s)]  # fmt: skip
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


def _finish(child: subprocess.Popen, timeout_s: float) -> int:
    """Wait for a worker; its reruns."""
    out, _ = child.communicate(timeout=timeout_s)
    if child.returncode != 0:
        raise RuntimeError(f"a campaign worker failed with exit code {child.returncode}")
    return json.loads(out.strip().splitlines()[-1])["reruns"]


def run_campaign(settings: CampaignSettings, work: Path, *, quiet: bool = True) -> CampaignResult:
    """Run a campaign in `work` and check every promise; see the module docstring."""
    from gong_client._journal import Journal
    from gong_client.emulator import EmulatorConfig, EmulatorServer

    s, started = settings, time.monotonic()
    result = CampaignResult(settings=asdict(s), limit_per_s=s.limit_per_s)
    rng = random.Random(s.seed)
    jobs = _make_jobs(work, s.calls, s.seed)
    result.calls = len(jobs)
    state = work / "state"
    config = EmulatorConfig(
        work / "emulator", access_keys={KEY: SECRET}, limit_per_s=s.limit_per_s,
        fail_rate=s.fail_rate, drop_rate=s.drop_rate, cut_rate=s.cut_rate,
        throttle_rate=s.throttle_rate, throttle_burst_s=s.throttle_burst_s, slow_s=s.slow_s,
        slow_rate=s.slow_rate, seed=s.seed,
    )  # fmt: skip
    say = (lambda *_: None) if quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    third = max(1, len(jobs) // 3)
    by_threads, by_processes, by_killed = jobs[:third], jobs[third:-third], jobs[-third:]
    with EmulatorServer(config) as server:
        url = server.base_url
        say(f"{len(by_threads)} calls from {s.threads} threads")
        with _client(url, str(state), s.client_timeout_s, s.seed, s.limit_per_s) as client:
            result.reruns += upload_until_done(client, by_threads, s.threads, s.deadline_s)
        say(f"{len(by_processes)} calls from {s.processes} processes sharing one journal")
        children = []
        for p in range(s.processes):
            order = list(by_processes)
            random.Random(s.seed * 100 + p).shuffle(order)
            children.append(_spawn(url, state, order, work, f"p{p}", s))
        result.reruns += sum(_finish(child, s.deadline_s) for child in children)
        say(f"{len(by_killed)} calls from a process killed {s.kills} times")
        for k in range(s.kills):
            child = _spawn(url, state, by_killed, work, f"k{k}", s)
            ready = child.stdout.readline() if child.stdout else ""
            if ready.strip() == "ready":
                time.sleep(rng.uniform(0.0, 2.5))
            child.send_signal(signal.SIGKILL)
            child.wait()
            result.kills += 1
        result.reruns += _finish(_spawn(url, state, by_killed, work, "final", s), s.deadline_s)
        _verify(result, server, jobs, Journal(state))
        rate = _read_back(url, "rate")
        result.faults_injected = rate["faultsInjected"]
        result.requests = rate["arrived"]["total"]
        result.max_admitted_per_s = rate["admitted"]["maxInAnyWindow"]
        result.max_arrived_per_s = rate["arrived"]["maxInAnyWindow"]
        if result.max_admitted_per_s > s.limit_per_s:
            result.problems.append(f"the server admitted {result.max_admitted_per_s} in 1 s")
        say("uploading everything again (nothing may be sent)")
        before = result.requests
        with _client(url, str(state), s.client_timeout_s, s.seed, s.limit_per_s) as client:
            again = [client.upload_call(j["audio"], j["call"]) for j in jobs]
        result.requests_on_rerun = _read_back(url, "rate")["arrived"]["total"] - before
        if result.requests_on_rerun or not all(r.already_uploaded for r in again):
            result.problems.append(f"the rerun sent {result.requests_on_rerun} requests")
    result.wall_s = round(time.monotonic() - started, 1)
    return result


def _read_back(base_url: str, route: str) -> dict:
    import httpx

    return httpx.get(f"{base_url}/emulator/{route}", auth=(KEY, SECRET)).json()


def _sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _verify(result: CampaignResult, server, jobs: list[dict], journal) -> None:
    """Every call exactly once with its media, and the journal in agreement."""
    from gong_client._upload import derive_client_unique_id

    stored = server.emulator.store.all()
    by_title = Counter(c["call"]["title"] for c in stored)
    by_cuid = {c["clientUniqueId"]: c for c in stored}
    rows = {e.client_unique_id: e for e in journal.entries()}
    result.duplicates = sum(n - 1 for n in by_title.values() if n > 1)
    for job in jobs:
        cuid = job["call"].get("clientUniqueId") or derive_client_unique_id(job["audio"], {})
        record = by_cuid.get(cuid)
        if record is None or record["media"] is None:
            result.calls_lost += 1
            continue
        if record["media"]["sha256"] != _sha256(job["audio"]):
            result.media_mismatches += 1
        row = rows.get(cuid)
        if row is None or row.state != "finished" or row.call_id != record["callId"]:
            result.journal_disagreements += 1
    result.journal_disagreements += len(set(rows) - set(by_cuid))
    for name in ("calls_lost", "duplicates", "media_mismatches", "journal_disagreements"):
        if getattr(result, name):
            result.problems.append(f"{name.replace('_', ' ')}: {getattr(result, name)}")


def format_result(result: CampaignResult) -> str:
    """The figures as a few lines of text."""
    faults = ", ".join(f"{k} {v}" for k, v in sorted(result.faults_injected.items()))
    return "\n".join(
        [
            f"calls uploaded: {result.calls} ({result.requests} requests, {result.wall_s} s)",
            f"faults injected: {sum(result.faults_injected.values())} ({faults})",
            f"processes killed (SIGKILL): {result.kills}; uploads started again: {result.reruns}",
            f"calls lost: {result.calls_lost}; duplicates: {result.duplicates}; "
            f"media not byte-identical: {result.media_mismatches}; "
            f"journal disagreements: {result.journal_disagreements}",
            f"most requests in any 1 s: admitted {result.max_admitted_per_s}, arrived "
            f"{result.max_arrived_per_s} (limit {result.limit_per_s}/s)",
            f"requests sent when everything was uploaded again: {result.requests_on_rerun}",
            "result: "
            + ("all promises held" if not result.problems else "; ".join(result.problems)),
        ]
    )


def main(args: argparse.Namespace) -> int:
    """The ``reliability`` benchmark command: run the campaign, print the figures."""
    fields = {"calls", "processes", "kills", "seed", "limit_per_s"}
    base = CampaignSettings.quick() if args.quick else CampaignSettings()
    overrides = {k: getattr(args, k) for k in fields if getattr(args, k, None) is not None}
    settings = CampaignSettings(**{**asdict(base), **overrides})
    with tempfile.TemporaryDirectory(prefix="gong-campaign-") as work:
        result = run_campaign(settings, Path(work), quiet=args.quiet)
    print(format_result(result))
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(result), indent=1) + "\n")
    return 1 if result.problems else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        sys.exit(_worker(sys.argv[2:]))
    sys.exit("usage: python -m benchmarks reliability (this module's 'worker' is internal)")
