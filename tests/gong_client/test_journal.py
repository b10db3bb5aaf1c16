"""The upload journal: states, ownership, and resuming after crashes between the two steps."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gong_client import Journal, JournalError
from gong_client._journal import make_owner
from tests.gong_client.helpers import (
    KEY,
    SECRET,
    logged_requests,
    make_call,
    sha256_of,
    write_audio,
)

ROOT = Path(__file__).resolve().parents[2]
BASE = "https://us-1.api.gong.io"


def test_rows_go_through_the_states(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    entry, is_new = journal.claim(BASE, "c1", "me", media_bytes=10)
    assert is_new and entry.state == "posting" and entry.owner == "me"
    entry, is_new = journal.claim(BASE, "c1", "me", media_bytes=10)
    assert not is_new
    journal.mark_created(BASE, "c1", "123", ["r1", "r2"])
    assert journal.get(BASE, "c1").state == "created"
    assert journal.get(BASE, "c1").request_ids == ("r1", "r2")
    journal.forget(BASE, "c1")  # only a posting row may be forgotten
    journal.mark_finished(BASE, "c1", "https://app.gong.io/call?id=123")
    journal.release(BASE, "c1", "me")
    row = Journal(tmp_path).get(BASE, "c1")  # persisted, re-opened
    assert (row.state, row.call_id, row.owner) == ("finished", "123", None)
    assert Journal(tmp_path).get("https://eu-1.api.gong.io", "c1") is None  # per tenant


def test_a_posting_row_refused_for_sure_is_forgotten(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.claim(BASE, "c2", "me", media_bytes=None)
    journal.forget(BASE, "c2")
    assert journal.get(BASE, "c2") is None


def test_a_live_owner_blocks_others_and_a_dead_one_is_taken_over(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.claim(BASE, "c3", make_owner("other-client"), media_bytes=None)  # this live pid
    with pytest.raises(JournalError, match="another process"):
        journal.claim(BASE, "c3", make_owner("me"), media_bytes=None)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    journal.claim(
        BASE,
        "c4",
        make_owner("x").rsplit("/", 2)[0] + f"/{dead.stdout.strip()}/x",
        media_bytes=None,
    )
    entry, _ = journal.claim(BASE, "c4", make_owner("me"), media_bytes=None)
    assert entry.owner == make_owner("me")


def test_unusable_state_directory_is_a_journal_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(JournalError, match="not-a-dir"):
        Journal(blocker)


def test_finished_call_is_never_sent_again(emulator, make_client, tmp_path: Path) -> None:
    audio = write_audio(tmp_path / "a.wav")
    first = make_client(emulator).upload_call(audio, make_call("once"))
    before = len(logged_requests(emulator.base_url))
    again = make_client(emulator).upload_call(audio, make_call("once"))  # a new client
    assert again.already_uploaded and again.call_id == first.call_id and again.url == first.url
    assert len(logged_requests(emulator.base_url)) == before


def test_interrupted_media_step_resumes_without_a_second_post(
    emulator, make_client, tmp_path: Path
) -> None:
    audio = write_audio(tmp_path / "a.wav", seconds=200)

    def ctrl_c(sent_bytes: int, total_bytes: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make_client(emulator).upload_call(audio, make_call("ctrl-c"), progress=ctrl_c)
    entry = make_client(emulator).journal.get(emulator.base_url, "ctrl-c")
    assert entry.state == "created" and entry.owner is None
    result = make_client(emulator).upload_call(audio, make_call("ctrl-c"))
    assert result.resumed and result.call_id == entry.call_id
    _assert_exactly_once(emulator, "ctrl-c", audio)


def test_changed_recording_for_a_created_call_is_refused(
    emulator, make_client, tmp_path: Path
) -> None:
    audio = write_audio(tmp_path / "a.wav", seconds=200)
    with pytest.raises(KeyboardInterrupt):
        make_client(emulator).upload_call(
            audio,
            make_call("changed"),
            progress=lambda s, t: (_ for _ in ()).throw(KeyboardInterrupt),
        )
    other = write_audio(tmp_path / "b.wav", seconds=3)
    with pytest.raises(JournalError, match="bytes"):
        make_client(emulator).upload_call(other, make_call("changed"))


def _run_uploader(emulator, state_dir: Path, audio: Path, cuid: str, mode: str):
    env = {**os.environ, "GONG_ACCESS_KEY": KEY, "GONG_ACCESS_KEY_SECRET": SECRET}
    args = [
        sys.executable,
        "-m",
        "tests.gong_client.uploader",
        emulator.base_url,
        str(state_dir),
        str(audio),
        cuid,
        mode,
    ]
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _assert_exactly_once(emulator, cuid: str, audio: Path) -> None:
    calls = [c for c in emulator.emulator.store.all() if c["clientUniqueId"] == cuid]
    assert len(calls) == 1
    assert calls[0]["media"]["sha256"] == sha256_of(audio)
    posts = [
        r
        for r in logged_requests(emulator.base_url)
        if r["method"] == "POST" and r["status"] == 200
    ]
    assert len(posts) == 1


def test_process_killed_during_the_media_step_resumes(emulator, tmp_path: Path) -> None:
    audio = write_audio(tmp_path / "a.wav", seconds=120)
    child = _run_uploader(emulator, tmp_path / "state", audio, "killed-in-media", "hang-in-media")
    deadline = time.monotonic() + 30
    while not Path(f"{audio}.started").exists():
        assert child.poll() is None and time.monotonic() < deadline, child.stderr.read()
        time.sleep(0.05)
    child.kill()
    child.wait()
    assert Journal(tmp_path / "state").get(emulator.base_url, "killed-in-media").state == "created"
    rerun = _run_uploader(emulator, tmp_path / "state", audio, "killed-in-media", "normal")
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    _assert_exactly_once(emulator, "killed-in-media", audio)
    assert [r["method"] for r in logged_requests(emulator.base_url)].count("POST") == 1


def test_process_killed_before_recording_the_call_id_resumes(emulator, tmp_path: Path) -> None:
    """The worst moment: Gong created the call, the journal still says 'posting'."""
    audio = write_audio(tmp_path / "a.wav", seconds=5)
    child = _run_uploader(
        emulator, tmp_path / "state", audio, "killed-after-post", "die-after-post"
    )
    child.communicate(timeout=60)
    assert child.returncode == -9
    assert (
        Journal(tmp_path / "state").get(emulator.base_url, "killed-after-post").state == "posting"
    )
    rerun = _run_uploader(emulator, tmp_path / "state", audio, "killed-after-post", "normal")
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    _assert_exactly_once(emulator, "killed-after-post", audio)
    # (a 429 may come in between: the two processes do not share a limiter)
    log = [(r["method"], r["status"]) for r in logged_requests(emulator.base_url)]
    assert [x for x in log if x[1] != 429] == [
        ("POST", 200),
        ("POST", 409),
        ("GET", 200),
        ("PUT", 201),
    ]
