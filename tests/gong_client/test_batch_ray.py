"""The batch on a local Ray instance: real Ray (started once for this module), real actors.

The same batch (stereo and mono; WAV, FLAC and MP3; an unreadable recording, an invalid call,
a missing recording and a call that kills its actor) must give on Ray what it gives on local
worker processes: the same statuses and reasons, byte-identical enriched call JSON. Uploads
from a Ray batch go through the driver's one client: every good call in the emulator once.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from diarize.options import Options
from gong_client import BasicAuth, GongClient, RateLimiter
from gong_client.batch import run_batch
from gong_client.batch.jobs import WorkSettings
from gong_client.batch.work import TEST_KILL_ENV
from tests.gong_client.batch_calls import CRASH_MARKER, build_batch
from tests.gong_client.helpers import KEY, SECRET, logged_requests, max_in_window, sha256_of

pytest.importorskip("ray", reason="the Ray extra is not installed (pip install '.[ray]')")

OPTIONS = Options(unknown="add", device="cpu")
FAULTS = {"fail_rate": 0.08, "drop_rate": 0.08, "throttle_rate": 0.08, "seed": 20261203}


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance (2 CPUs) for the module; each batch's executor uses it."""
    from gong_client.batch.ray_executor import connect, shutdown

    connect("local", num_cpus=2)
    yield
    shutdown()


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return build_batch(tmp_path_factory.mktemp("ray-batch") / "in", stereo=3, mono=2)


def _records(out: Path) -> dict[str, dict]:
    """The summary's calls by recording file name."""
    calls = json.loads((out / "summary.json").read_text())["calls"]
    return {Path(c["audio"]).name: c for c in calls}


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "calls").glob("*.json"))}


def test_a_batch_on_ray_ends_as_on_local_worker_processes(
    calls: dict, local_ray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TEST_KILL_ENV, CRASH_MARKER)
    local = run_batch(calls["manifest"], tmp_path / "local", options=OPTIONS, workers=2)
    on_ray = run_batch(calls["manifest"], tmp_path / "ray", options=OPTIONS, workers=2, ray="local")

    good, bad = calls["good"], calls["bad"]
    assert on_ray.exit_code == local.exit_code == 1
    for status in ("done", "failed", "skipped"):
        assert on_ray.totals[status] == local.totals[status], status
    assert on_ray.totals["done"] == len(good) and on_ray.totals["failed"] == len(bad)
    assert on_ray.totals["failuresByReason"] == local.totals["failuresByReason"]

    # the same enriched call JSON, byte for byte, for every good call
    ray_outputs = _outputs(tmp_path / "ray")
    assert set(ray_outputs) == {f"{cuid}.json" for cuid in good}
    assert ray_outputs == _outputs(tmp_path / "local")

    # the same record for each call; the Ray ones were diarized by actors
    ray_records, local_records = _records(tmp_path / "ray"), _records(tmp_path / "local")
    assert set(ray_records) == set(local_records)
    for name, record in ray_records.items():
        theirs = local_records[name]
        for field in ("status", "reason", "clientUniqueId", "layout", "speakers"):
            assert record.get(field) == theirs.get(field), (name, field)
        if record["status"] == "done":
            assert record["audioSeconds"] == theirs["audioSeconds"]
            assert record["worker"].startswith("ray:"), record["worker"]
        elif CRASH_MARKER not in name:
            assert record["error"] == theirs["error"], name

    # the call that killed its actor: failed with the reason; the others finished regardless
    crashed = ray_records[f"{CRASH_MARKER}.wav"]
    assert crashed["reason"] == "worker died"
    assert "Ray actor died" in crashed["error"] and "\n" not in crashed["error"]


@pytest.mark.slow  # about 20 s; the uploads are the driver's, as in test_batch.py
def test_a_ray_batch_uploads_each_call_once_through_one_limiter(
    calls: dict, local_ray, start_emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TEST_KILL_ENV, CRASH_MARKER)
    server = start_emulator(**FAULTS)
    out, state = tmp_path / "out", tmp_path / "state"

    def client() -> GongClient:
        return GongClient(
            BasicAuth(KEY, SECRET),
            base_url=server.base_url,
            limiter=RateLimiter(3, margin_s=0.25),  # the test machine is shared and busy
            state_dir=state,
            timeout_s=10.0,
        )

    with client() as gong:
        result = run_batch(
            calls["manifest"],
            out,
            options=OPTIONS,
            workers=2,
            upload=True,
            client=gong,
            ray="local",
        )
        for _ in range(2):  # an upload that gave up on the faults goes again on a rerun
            if result.totals["failed"] == len(calls["bad"]):
                break
            result = run_batch(
                calls["manifest"],
                out,
                options=OPTIONS,
                workers=2,
                upload=True,
                client=gong,
                ray="local",
            )
    good = calls["good"]
    assert result.totals["failed"] == len(calls["bad"])
    stored = server.emulator.store.all()
    assert Counter(c["clientUniqueId"] for c in stored) == Counter(list(good))
    for record in stored:
        assert record["media"]["sha256"] == sha256_of(good[record["clientUniqueId"]])
        assert record["call"]["speakersTimeline"]["speechSegments"]
    records = _records(out)
    by_cuid = {c["clientUniqueId"]: c["callId"] for c in stored}
    for cuid, audio in good.items():
        assert records[audio.name]["callId"] == by_cuid[cuid]
    log = logged_requests(server.base_url)
    assert max_in_window([r["receivedMonotonicS"] for r in log]) <= 3
    assert not [r for r in log if r.get("limit")]

    # again: everything is skipped and nothing reaches the emulator
    before = len(log)
    with client() as gong:
        again = run_batch(
            calls["manifest"],
            out,
            options=OPTIONS,
            workers=2,
            upload=True,
            client=gong,
            ray="local",
        )
    assert again.totals["skipped"] == len(good) and again.totals["done"] == 0
    assert len(logged_requests(server.base_url)) == before


@pytest.mark.slow
def test_recordings_shipped_through_the_object_store_give_the_same_calls(
    calls: dict, local_ray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an actor on another node gets: the recording's bytes, not its path."""
    monkeypatch.setenv(TEST_KILL_ENV, CRASH_MARKER)
    from gong_client.batch.ray_executor import RayExecutor

    settings = WorkSettings(options=OPTIONS, threads=1)
    by_path = run_batch(
        calls["manifest"], tmp_path / "path", options=OPTIONS, workers=2, ray="local"
    )
    shipped = run_batch(
        calls["manifest"],
        tmp_path / "shipped",
        options=OPTIONS,
        executor=RayExecutor(settings, workers=2, ship_audio=True),
    )
    assert shipped.totals["done"] == by_path.totals["done"] == len(calls["good"])
    assert _outputs(tmp_path / "shipped") == _outputs(tmp_path / "path")
