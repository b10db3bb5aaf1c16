"""A batch killed with SIGKILL part-way, then run again, ends as a batch never killed.

The batch runs as the real console script in a child process, uploading to the emulator
(whose answers are slowed so that the kill lands mid-batch); it is killed once some calls are
in Gong, and the same command is run again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from gong_client import Journal
from gong_client.batch import run_batch
from tests.gong_client.batch_calls import build_batch
from tests.gong_client.helpers import KEY, SECRET, logged_requests, max_in_window, sha256_of

ROOT = Path(__file__).resolve().parents[2]


def _finished(state: Path) -> int:
    if not (state / Journal.FILENAME).exists():
        return 0
    return sum(entry.state == "finished" for entry in Journal(state).entries())


def test_a_killed_batch_run_again_ends_as_one_never_killed(start_emulator, tmp_path: Path):
    calls = build_batch(tmp_path / "in", stereo=8, mono=0, bad=False)
    server = start_emulator(slow_s=0.15, slow_rate=1.0)
    out, state = tmp_path / "out", tmp_path / "state"
    args = [
        sys.executable, "-m", "gong_client", "batch", str(calls["manifest"]),
        "--out", str(out), "--upload", "--state-dir", str(state),
        "--base-url", server.base_url, "--workers", "2", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "GONG_ACCESS_KEY": KEY, "GONG_ACCESS_KEY_SECRET": SECRET}
    child = subprocess.Popen(args, cwd=ROOT, env=env)
    deadline = time.monotonic() + 300
    while _finished(state) < 2 and child.poll() is None:
        assert time.monotonic() < deadline, "no call was uploaded"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the batch ended before it could be killed"
    in_gong_at_kill = len(server.emulator.store.all())
    assert in_gong_at_kill < len(calls["good"])

    rerun_from_s = time.monotonic()
    rerun = subprocess.run(args, cwd=ROOT, env=env, timeout=300)
    assert rerun.returncode == 0

    # every call in Gong exactly once, with its complete media
    stored = server.emulator.store.all()
    assert Counter(c["clientUniqueId"] for c in stored) == Counter(list(calls["good"]))
    for record in stored:
        expected = sha256_of(calls["good"][record["clientUniqueId"]])
        assert record["media"] is not None and record["media"]["sha256"] == expected
    assert _finished(state) == len(calls["good"])
    # each run keeps the limit; the killed run's limiter dies with it, so a request it had in
    # flight and the rerun's first ones may share a second (Gong answers 429, as for any
    # other process of the company)
    log = [r["receivedMonotonicS"] for r in logged_requests(server.base_url)]
    assert max_in_window([t for t in log if t < rerun_from_s]) <= 3
    assert max_in_window([t for t in log if t >= rerun_from_s]) <= 3

    # the outputs are those of a batch never killed, and no temporary file is left
    never_killed = run_batch(calls["manifest"], tmp_path / "clean", workers=1)
    assert never_killed.totals["done"] == len(calls["good"])
    written = sorted(p.name for p in (out / "calls").iterdir())
    assert written == sorted(p.name for p in (tmp_path / "clean" / "calls").iterdir())
    for name in written:
        assert (out / "calls" / name).read_bytes() == (
            tmp_path / "clean" / "calls" / name
        ).read_bytes()
    assert not [p for p in out.rglob(".*") if p.is_file()]
