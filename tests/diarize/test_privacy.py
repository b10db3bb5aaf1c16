"""Privacy: the commands that do not upload send nothing anywhere and leave nothing behind.

Each command runs as a user runs it, in a child process with a fresh home (HOME, the XDG
folders and TMPDIR all empty). Two watchers look at the network:

- ``strace -f`` sees every socket of the child and its threads, native code included
  (ONNX Runtime's telemetry is C++, out of reach of anything in Python);
- an audit hook in the child sees Python's own connects and name look-ups (pyannote's
  metrics, the Hugging Face hub), and still runs where strace is missing or not allowed.

Afterwards the fresh home and temporary folder must be as empty as they started: no
telemetry store, no device id, no cache, except this tool's own cache of the networks it
exported for ONNX Runtime (``~/.cache/gong-diarize/onnx``, made from the bundled weights).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from diarize.example import load_sample, write_example

# Runs the console script with an audit hook that logs every non-local network attempt.
_CHILD = r"""
import ipaddress, json, socket, sys

log = open(sys.argv.pop(1), "a", encoding="utf-8")

def local(host):
    if host is None or host in ("", "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False

def hook(event, args):
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        address = args[1]
        if not isinstance(address, tuple) or local(address[0]):
            return
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        if local(args[0]):
            return
        address = args[0]
    else:
        return
    log.write(json.dumps([event, repr(address)]) + "\n")
    log.flush()

sys.addaudithook(hook)
import os
if os.environ.get("PRIVACY_CANARY") == "onnxruntime":  # a dependency running ONNX Runtime
    from silero_vad import load_silero_vad
    load_silero_vad(onnx=True)
from gong_client.cli import main
sys.argv[0] = "gong-diarize"
main()
"""

_SOCKADDR = re.compile(
    r"sa_family=AF_INET6?, sin6?_port=htons\((\d+)\)"
    r".*?inet_(?:addr|pton)\((?:AF_INET6, )?\"([^\"]+)\""
)


def _strace_usable() -> str | None:
    """None when strace can trace a child here, else why not."""
    if shutil.which("strace") is None:
        return "strace is not installed (scripts/setup.sh --system installs it with apt)"
    done = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=connect", "-o", os.devnull, "true"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return f"strace cannot trace here: {done.stderr.strip()[:200]}"
    return None


STRACE_MISSING = _strace_usable()


def outbound_in_strace(text: str) -> list[str]:
    """The lines of a ``strace -e trace=network`` log that reach beyond this machine.

    A DNS query counts wherever it goes (a local resolver such as 127.0.0.53 forwards it).
    """
    found = []
    for line in text.splitlines():
        if not re.search(r"\b(connect|sendto|sendmsg)\(", line):
            continue
        for port, host in _SOCKADDR.findall(line):
            if int(port) == 53 or not ipaddress.ip_address(host.split("%")[0]).is_loopback:
                found.append(line.strip()[:200])
    return found


def test_strace_parser_finds_outbound_and_dns() -> None:
    log = "\n".join(
        [
            '12 connect(8, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.2.3.4")}'
            ", 16 <unfinished ...>",
            '12 connect(3, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("1.2.3.4")}'
            ", 16) = -1 EINPROGRESS",
            '12 connect(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")'
            "}, 16) = 0",
            '12 connect(4, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1"'
            ")}, 16) = 0",
            "12 connect(5, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), "
            'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
            '12 connect(6, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1',
        ]
    )
    found = outbound_in_strace(log)
    assert [("10.2.3.4" in f, "1.2.3.4" in f, "127.0.0.53" in f) for f in found] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Path:
    folder = write_example(tmp_path_factory.mktemp("recordings"))
    samples, sample_rate, _ = load_sample()
    sf.write(folder / "mono.wav", samples, sample_rate, subtype="PCM_16")
    call = json.loads((folder / "call.json").read_text(encoding="utf-8"))
    lines = [
        {"audio": name, "call": {**call, "clientUniqueId": f"privacy-{n}"}}
        for n, name in enumerate(["call.wav", "mono.wav"])
    ]
    (folder / "calls.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return folder


def run_private(args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> dict:
    """Run ``gong-diarize ARGS`` with a fresh home under both watchers; what each saw."""
    home, temp, out = tmp_path / "home", tmp_path / "tmp", tmp_path / "out"
    for folder in (home, temp, out):
        folder.mkdir()
    child_env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("XDG_", "ORT_", "HF_", "PYANNOTE_", "MPL")) and name != "TMPDIR"
    }
    child_env.update(
        HOME=str(home),
        TMPDIR=str(temp),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_STATE_HOME=str(home / ".local/state"),
        **(env or {}),
    )
    audit_log, strace_log = tmp_path / "audit.jsonl", tmp_path / "strace.log"
    command = [sys.executable, "-c", _CHILD, str(audit_log), *args]
    if STRACE_MISSING is None:
        command = ["strace", "-f", "-qq", "-e", "trace=network", "-o", str(strace_log), *command]
    done = subprocess.run(
        command, capture_output=True, text=True, env=child_env, cwd=out, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    own_cache = home / ".cache" / "gong-diarize"
    left = sorted(
        str(p.relative_to(tmp_path))
        for p in (*home.rglob("*"), *temp.rglob("*"))
        if not (p == own_cache.parent or p == own_cache or p.is_relative_to(own_cache))
    )
    exported = sorted(p.relative_to(own_cache) for p in own_cache.rglob("*") if p.is_file())
    return {
        "left_behind": left,
        "own_cache": exported,
        "python_outbound": audit_log.read_text().splitlines() if audit_log.exists() else [],
        "native_outbound": outbound_in_strace(strace_log.read_text())
        if strace_log.exists()
        else None,
        "out": out,
    }


def _commands(recordings: Path) -> dict[str, list[str]]:
    call = str(recordings / "call.json")
    return {
        "timeline-stereo": ["timeline", str(recordings / "call.wav"), "--call", call, "-o", "x"],
        "timeline-mono": [
            "timeline",
            str(recordings / "mono.wav"),
            "--call",
            call,
            "--unknown",
            "add",
            "-o",
            "x",
        ],
        "enroll": ["enroll", str(recordings / "mono.wav"), "--party", "rep@x.com", "--store", "p"],
        "batch": [
            "batch",
            str(recordings / "calls.jsonl"),
            "--out",
            "x",
            "--workers",
            "1",
            "--unknown",
            "add",
            "--state-dir",
            "state",
            "--quiet",
        ],  # fmt: skip
    }


@pytest.mark.parametrize("name", ["timeline-stereo", "timeline-mono", "enroll", "batch"])
def test_command_sends_nothing_and_leaves_nothing(name, recordings, tmp_path) -> None:
    seen = run_private(_commands(recordings)[name], tmp_path)
    assert any(seen["out"].iterdir()), "the command wrote its output"
    assert seen["left_behind"] == [], "files written outside the output (telemetry, caches)"
    assert all(p.parent.name == "onnx" and p.suffix == ".onnx" for p in seen["own_cache"]), (
        "this tool's cache holds exported networks only"
    )
    assert seen["python_outbound"] == [], "network attempts from Python code"
    if STRACE_MISSING is not None:
        pytest.skip(f"native sockets not watched: {STRACE_MISSING}")
    assert seen["native_outbound"] == [], "network attempts seen by strace"


@pytest.mark.slow
def test_the_watch_sees_onnxruntime_telemetry_when_the_user_turns_it_on(recordings, tmp_path):
    """A user's explicit ORT_DISABLE_TELEMETRY=0 is respected, and the file check catches it.

    The stereo command runs no ONNX Runtime (Silero runs in numpy; only the mono networks
    do), so the child loads Silero through ONNX Runtime first, as a user's own step would."""
    args = _commands(recordings)["timeline-stereo"]
    env = {"ORT_DISABLE_TELEMETRY": "0", "PRIVACY_CANARY": "onnxruntime"}
    seen = run_private(args, tmp_path, env=env)
    assert any(".onnxruntime" in path for path in seen["left_behind"]), seen["left_behind"]


def test_privacy_defaults_respect_the_user_and_reach_the_children() -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("ORT_DISABLE_TELEMETRY", "MPLCONFIGDIR")
    }
    env["HF_HUB_OFFLINE"] = "0"
    code = (
        "import os, json, diarize\n"
        "print(json.dumps({k: os.environ.get(k) for k in "
        "('ORT_DISABLE_TELEMETRY', 'HF_HUB_OFFLINE', 'PYANNOTE_METRICS_ENABLED', 'MPLCONFIGDIR')}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout)
    assert values["ORT_DISABLE_TELEMETRY"] == "1"
    assert values["PYANNOTE_METRICS_ENABLED"] == "false"
    assert values["HF_HUB_OFFLINE"] == "0"  # the user's own choice stands
    assert "gong-diarize-mpl-" in values["MPLCONFIGDIR"]
    assert not Path(values["MPLCONFIGDIR"]).exists()  # created only when matplotlib runs
