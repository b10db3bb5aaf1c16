"""The batch runner end to end: real recordings, real worker processes, the real emulator.

One batch of 20 calls (stereo and mono; WAV, FLAC and MP3; an unreadable recording, an
invalid call JSON, a missing recording and a call whose worker dies) is uploaded to an
emulator that injects 500s, dropped connections and 429s. Every good call must end in the
emulator exactly once with its exact media and a timeline, every bad one in the summary with
its reason, and the emulator must never have seen more requests per second than its limit.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from diarize.options import Options
from gong_client import BasicAuth, GongClient, RateLimiter
from gong_client.batch import BatchProgress, run_batch
from gong_client.batch.work import TEST_KILL_ENV
from tests.gong_client.batch_calls import CRASH_MARKER, build_batch
from tests.gong_client.helpers import KEY, SECRET, logged_requests, max_in_window, sha256_of

FAULTS = {"fail_rate": 0.1, "drop_rate": 0.08, "throttle_rate": 0.08, "seed": 20261202}
OPTIONS = Options(unknown="add", device="cpu")  # mono voices become parties: a timeline


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return build_batch(tmp_path_factory.mktemp("batch") / "in", stereo=14, mono=2)


def _client(server, state: Path) -> GongClient:
    # the test machine is shared and busy: a wider margin than the default
    return GongClient(
        BasicAuth(KEY, SECRET),
        base_url=server.base_url,
        limiter=RateLimiter(3, margin_s=0.25),
        state_dir=state,
        timeout_s=10.0,
    )


def _records(out: Path) -> dict[str, dict]:
    calls = json.loads((out / "summary.json").read_text())["calls"]
    return {Path(c["audio"]).name if c.get("audio") else c["error"]: c for c in calls}


def test_a_batch_with_faults_uploads_every_good_call_once(
    calls: dict, start_emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TEST_KILL_ENV, CRASH_MARKER)
    server = start_emulator(**FAULTS)
    out, state = tmp_path / "out", tmp_path / "state"
    seen: list[BatchProgress] = []
    with _client(server, state) as client:
        result = run_batch(
            calls["manifest"],
            out,
            options=OPTIONS,
            workers=2,
            upload=True,
            client=client,
            rttm=True,
            on_progress=seen.append,
        )
        # a call whose upload gave up on the faults is uploaded by running the batch again
        for _ in range(2):
            if result.totals["failed"] == len(calls["bad"]):
                break
            result = run_batch(
                calls["manifest"], out, options=OPTIONS, workers=2, upload=True, client=client
            )

    good, bad = calls["good"], calls["bad"]
    assert result.exit_code == 1
    assert result.totals["failed"] == len(bad)
    assert result.totals["done"] + result.totals["skipped"] == len(good)

    # every good call in Gong exactly once, with its exact recording and a timeline
    stored = server.emulator.store.all()
    assert Counter(c["clientUniqueId"] for c in stored) == Counter(list(good))
    for record in stored:
        audio = good[record["clientUniqueId"]]
        assert record["media"] is not None and record["media"]["sha256"] == sha256_of(audio)
        timeline = record["call"]["speakersTimeline"]["speechSegments"]
        party_ids = {p["partyId"] for p in record["call"]["parties"]}
        assert timeline and all(set(s["partyIds"]) <= party_ids for s in timeline)

    # the summary: each good call done (or skipped on the rerun) with its callId and output
    records = _records(out)
    by_cuid = {c["clientUniqueId"]: c["callId"] for c in stored}
    for cuid, audio in good.items():
        record = records[audio.name]
        assert record["status"] in ("done", "skipped")
        assert record["callId"] == by_cuid[cuid]
        assert json.loads(Path(record["output"]).read_text())["clientUniqueId"] == cuid
        expected_layout = "mono" if cuid in calls["mono"] else "dual-channel"
        assert record["layout"] == expected_layout
        assert record["speakers"] >= 2 and record["audioSeconds"] > 5
    assert all((out / "calls" / f"{cuid}.rttm").is_file() for cuid in good)

    # every bad call in the summary with its reason, on one line that names it
    for name, reason in bad.items():
        record = next(r for key, r in records.items() if name in key)
        assert record["status"] == "failed", name
        assert record["reason"] == reason, record
        assert "\n" not in record["error"] and record["error"]
    assert "died" in next(r for k, r in records.items() if CRASH_MARKER in k)["error"]
    assert "primaryUser" in next(r for k, r in records.items() if "invalid-call" in k)["error"]
    assert result.totals["failuresByReason"] == dict(Counter(bad.values()))

    # the emulator's rate limit held for the batch as a whole, and faults did happen
    log = logged_requests(server.base_url)
    assert max_in_window([r["receivedMonotonicS"] for r in log]) <= 3
    assert not [r for r in log if r.get("limit")]
    assert {r["fault"] for r in log if r["fault"]} >= {"fail", "drop", "throttle"}

    # progress came after each call of the first run, ending at the manifest's size
    assert seen and seen[-1].total == len(good) + len(bad)
    assert seen[-1].finished == len(good) + len(bad)
    html = (out / "summary.html").read_text()
    assert html.count('class="strip"') >= len(good) - result.totals["skipped"]

    # the same command again: nothing is sent, every good call is skipped as done
    before = len(logged_requests(server.base_url))
    with _client(server, state) as client:
        again = run_batch(
            calls["manifest"], out, options=OPTIONS, workers=2, upload=True, client=client
        )
    assert again.totals["skipped"] == len(good) and again.totals["done"] == 0
    assert again.totals["failed"] == len(bad)
    assert len(logged_requests(server.base_url)) == before
    assert "earlier run" in _records(out)["crash-me.wav"]["error"]


def test_stereo_calls_go_before_mono_ones(tmp_path: Path) -> None:
    """With one worker, the stereo calls listed after a mono one are done before it."""
    batch = build_batch(tmp_path / "in", stereo=2, mono=0, bad=False)
    # listed first: a recording whose header gives no channel count (it fails at once)
    (tmp_path / "in" / "first.wav").write_bytes(b"RIFF" + bytes(60))
    lines = batch["manifest"].read_text().splitlines(keepends=True)
    first = lines[0].replace("stereo-00.wav", "first.wav").replace("stereo-00", "first")
    batch["manifest"].write_text(first + "".join(lines))
    order: list[str] = []

    def note(progress: BatchProgress) -> None:
        order.append(Path(progress.last["audio"]).name)

    result = run_batch(batch["manifest"], tmp_path / "out", workers=1, on_progress=note)
    assert order == ["stereo-00.wav", "stereo-01.flac", "first.wav"]
    assert result.totals["done"] == 2 and result.totals["failed"] == 1
