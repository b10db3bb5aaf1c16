"""Known secrets, real uploads through the CLI with ``-v`` logging, and a scan for the secrets.

The access key secret, the Basic header built from it, a bearer token and an OAuth token are
set to known values; uploads run against an emulator that fails often (so that retries, 429s
and error paths are logged), with right and wrong credentials, through ``upload`` and
``batch --upload``. Then stdout, stderr, the journal and every other file written (outputs,
summaries), the reprs of the client and credential objects, and the text of every exception
on the way are searched for each secret. None may be found.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from diarize.example import example_call, write_example
from gong_client import BasicAuth, BearerAuth, GongClient, read_token_response
from gong_client._journal import Journal
from gong_client.emulator import EmulatorConfig
from gong_client.errors import GongError
from tests.gong_client.helpers import write_audio

ROOT = Path(__file__).resolve().parents[2]
KEY = "secret-scan-key"
SECRET = "s3cr3t-Value-4f9a-never-shown"
TOKEN = "bearer-7d2e-never-shown-either"
OAUTH = "oauth-access-93bc-never-shown"
WRONG = "wrong-secret-5e1d-also-secret"
SECRETS = {
    "access key secret": SECRET,
    "Basic header": base64.b64encode(f"{KEY}:{SECRET}".encode()).decode(),
    "bearer token": TOKEN,
    "OAuth token": OAUTH,
    "wrong secret": WRONG,
    "wrong Basic header": base64.b64encode(f"{KEY}:{WRONG}".encode()).decode(),
}
FAULTS = {"fail_rate": 0.2, "drop_rate": 0.1, "throttle_rate": 0.1, "seed": 99, "limit_per_s": 20}


def _found(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gong_client", "-v", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def _files_under(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


class Scan:
    """Runs the CLI against one emulator and collects every text to search."""

    def __init__(self, server, tmp_path: Path) -> None:
        self.server, self.tmp_path = server, tmp_path
        self.audio = str(write_audio(tmp_path / "call.wav", seconds=2.0, channels=2))
        self.state = tmp_path / "state"
        self.base = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path / "home"),
            "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
            "NO_PROXY": "127.0.0.1,localhost",
            "GONG_BASE_URL": server.base_url,
        }
        self.basic = {**self.base, "GONG_ACCESS_KEY": KEY, "GONG_ACCESS_KEY_SECRET": SECRET}
        self.texts: dict[str, str] = {}

    def run(self, name: str, args: list[str], env: dict[str, str], *, ok: bool) -> None:
        """Run the CLI (again, while it gives up on the faults, as a user would)."""
        for attempt in range(4):
            done = _cli(args, env)
            self.texts[f"{name} #{attempt} stdout"] = done.stdout
            self.texts[f"{name} #{attempt} stderr"] = done.stderr
            if done.returncode == 0 or not ok:
                break
        assert (done.returncode == 0) is ok, done.stderr
        assert "Traceback" not in done.stderr

    def upload(self, cuid: str, *extra: str) -> list[str]:
        """``upload`` arguments for the example recording under a call JSON with `cuid`."""
        path = self.tmp_path / f"{cuid}.json"
        path.write_text(json.dumps(example_call(cuid)))
        return ["upload", self.audio, "--call", str(path), "--state-dir", str(self.state), *extra]

    def add_files(self, *folders: Path) -> None:
        """Every file written under these folders (journal with its WAL, outputs, summaries)."""
        for folder in folders:
            for name, data in _files_under(folder).items():
                self.texts[name] = data.decode("latin-1")

    def assert_clean(self) -> None:
        """No secret anywhere, and the scan saw the logging it was meant to search."""
        leaks = {where: _found(text) for where, text in self.texts.items() if _found(text)}
        print(f"secret scan: {len(self.texts)} texts searched, {len(leaks)} with a secret")
        assert leaks == {}, leaks
        assert any("gong_client" in t for k, t in self.texts.items() if k.endswith("stderr"))


@pytest.fixture
def scan(start_emulator, tmp_path: Path) -> Scan:
    tokens = frozenset({TOKEN, OAUTH})
    return Scan(start_emulator(access_keys={KEY: SECRET}, bearer_tokens=tokens, **FAULTS), tmp_path)


@pytest.mark.timeout(300)
def test_no_secret_in_upload_output_logs_journal_reprs_or_errors(scan: Scan) -> None:
    tmp_path = scan.tmp_path
    scan.run("upload", scan.upload("scan-1", "--no-diarize"), scan.basic, ok=True)
    scan.run("upload again", scan.upload("scan-1", "--no-diarize"), scan.basic, ok=True)
    wrong_env = {**scan.basic, "GONG_ACCESS_KEY_SECRET": WRONG}
    scan.run("wrong secret", scan.upload("scan-2", "--no-diarize"), wrong_env, ok=False)
    bearer_env = {**scan.base, "GONG_BEARER_TOKEN": TOKEN}
    scan.run("bearer", scan.upload("scan-3", "--no-diarize"), bearer_env, ok=True)
    token_file = tmp_path / "token.json"
    token_file.write_text(json.dumps({"access_token": OAUTH, "token_type": "bearer"}))
    oauth_args = scan.upload("scan-4", "--no-diarize", "--oauth-token-file", str(token_file))
    scan.run("oauth", oauth_args, scan.base, ok=True)
    broken = tmp_path / "broken-token.json"
    broken.write_text(json.dumps({"access_token": OAUTH})[:-3])
    broken_args = scan.upload("scan-5", "--no-diarize", "--oauth-token-file", str(broken))
    scan.run("broken token file", broken_args, scan.base, ok=False)
    journal = scan.state / Journal.FILENAME
    assert journal.exists() and b"scan-1" in journal.read_bytes() + _wal(journal)
    scan.add_files(scan.state, tmp_path / "xdg-state", tmp_path / "home")

    # reprs of the objects that hold secrets, and the errors of failed requests
    server = scan.server
    good = GongClient(BasicAuth(KEY, SECRET), base_url=server.base_url, state_dir=scan.state)
    wrong = GongClient(BasicAuth(KEY, WRONG), base_url=server.base_url, state_dir=scan.state)
    oauth = read_token_response(token_file)
    config = EmulatorConfig(tmp_path / "e", access_keys={KEY: SECRET}, bearer_tokens={TOKEN})
    objects = [good, wrong, good.auth, BearerAuth(TOKEN), oauth, oauth.auth, config, good.journal]
    for i, obj in enumerate(objects):
        scan.texts[f"repr {i}"] = f"{obj!r} {obj!s}"
    for name, attempt in {
        "401": lambda: wrong.add_call(example_call("scan-7")),
        "invalid call": lambda: wrong.upload_call(scan.audio, {"parties": []}),
    }.items():
        with pytest.raises(GongError) as caught:
            attempt()
        exc: BaseException | None = caught.value
        while exc is not None:
            scan.texts[f"error {name} {type(exc).__name__}"] = f"{exc!s} {exc!r} {vars(exc)}"
            exc = exc.__cause__ or exc.__context__
    good.close()
    wrong.close()
    for holder in (good.auth, oauth.auth):
        with pytest.raises(TypeError):
            pickle.dumps(holder)
    scan.assert_clean()
    assert len(scan.texts) >= 20


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_no_secret_in_a_diarized_upload_a_batch_or_a_network_failure(scan: Scan) -> None:
    scan.audio = str(write_example(scan.tmp_path / "example") / "call.wav")
    scan.run("diarized upload", scan.upload("scan-d"), scan.basic, ok=True)
    closed = {**scan.basic, "GONG_BASE_URL": "http://127.0.0.1:9"}  # nothing listens on 9
    scan.run("unreachable", scan.upload("scan-u", "--no-diarize"), closed, ok=False)
    manifest = scan.tmp_path / "batch.jsonl"
    manifest.write_text(
        "".join(
            json.dumps({"audio": scan.audio, "call": example_call(f"scan-batch-{i}")}) + "\n"
            for i in range(2)
        )
    )
    out = scan.tmp_path / "batch-out"
    batch = ["batch", str(manifest), "--out", str(out), "--upload", "--workers", "1"]
    scan.run("batch", [*batch, "--state-dir", str(scan.state)], scan.basic, ok=True)
    assert (out / "summary.json").exists()
    scan.add_files(scan.state, out, scan.tmp_path / "xdg-state", scan.tmp_path / "home")
    scan.assert_clean()


def _wal(journal: Path) -> bytes:
    wal = journal.with_name(journal.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""
