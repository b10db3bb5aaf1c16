"""Memory and throughput of a large media upload: the client must stream, not buffer.

``python -m benchmarks.upload_memory [--size-mb 1024]`` writes a valid WAV of that size in a
temporary directory, starts the emulator (``gong-diarize emulator``) in one process and the
client (`GongClient.upload_call`) in another, and reports the client's peak RSS (the target:
under 150 MB for a 1 GB file), the emulator's peak RSS, and the upload throughput over
loopback. The stored media is checked byte for byte (SHA-256). The result goes to
``benchmarks/results/upload_memory.json`` (or ``--output``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["main", "write_wav"]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "upload_memory.json"
RSS_LIMIT_MB = 150.0
KEY, SECRET = "bench-key", "bench-secret"
SAMPLE_RATE = 16000


def write_wav(path: Path, size_bytes: int) -> Path:
    """Write a mono 16-bit WAV of exactly ``size_bytes`` (header included), noise-filled."""
    import numpy as np

    data_bytes = (size_bytes - 44) // 2 * 2
    header = b"".join(
        [
            b"RIFF",
            (36 + data_bytes).to_bytes(4, "little"),
            b"WAVEfmt ",
            (16).to_bytes(4, "little"),
            (1).to_bytes(2, "little"),  # PCM
            (1).to_bytes(2, "little"),  # mono
            SAMPLE_RATE.to_bytes(4, "little"),
            (SAMPLE_RATE * 2).to_bytes(4, "little"),
            (2).to_bytes(2, "little"),
            (16).to_bytes(2, "little"),
            b"data",
            data_bytes.to_bytes(4, "little"),
        ]
    )
    block = (np.random.default_rng(0).normal(0, 3000, 2 * 1024 * 1024)).astype("<i2").tobytes()
    with path.open("wb") as f:
        f.write(header)
        left = data_bytes
        while left:
            piece = block[: min(left, len(block))]
            f.write(piece)
            left -= len(piece)
    return path


def _client(base_url: str, audio: str, state_dir: str) -> None:
    """The measured process: one upload through the library, then a JSON line on stdout."""
    from gong_client import BasicAuth, GongClient

    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    call = {
        "clientUniqueId": "bench-upload-memory",
        "actualStart": "2024-05-14T15:32:08Z",
        "direction": "Outbound",
        "primaryUser": "234599484848423",
        "parties": [{"userId": "234599484848423", "name": "Bench Rep"}],
    }
    times: dict[str, float] = {}

    def progress(sent_bytes: int, total_bytes: int) -> None:
        times.setdefault("first_chunk", time.perf_counter())

    with GongClient(BasicAuth(KEY, SECRET), base_url=base_url, state_dir=state_dir) as client:
        start = time.perf_counter()
        result = client.upload_call(audio, call, progress=progress)
        end = time.perf_counter()
    print(
        json.dumps(
            {
                "call_id": result.call_id,
                "rss_before_upload_mb": before_mb,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "upload_call_s": end - start,
                "media_s": end - times.get("first_chunk", start),
            }
        )
    )


def _watch_rss(pid: int, peak: dict[str, float], stop: threading.Event) -> None:
    try:
        import psutil
    except ImportError:
        return
    try:
        process = psutil.Process(pid)
        while not stop.is_set():
            peak["mb"] = max(peak.get("mb", 0.0), process.memory_info().rss / 2**20)
            stop.wait(0.1)
    except psutil.Error:
        return


def _start_emulator(data_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    args = [sys.executable, "-m", "gong_client", "emulator", "--port", "0", "--data-dir",
            str(data_dir), "--access-key", KEY, "--access-key-secret", SECRET]  # fmt: skip
    server = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip() if server.stdout else ""
    if not url.startswith("http"):
        server.kill()
        raise SystemExit("the emulator did not start")
    return server, url


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(4 * 2**20):
            digest.update(block)
    return digest.hexdigest()


def run(size_mb: int, work_dir: Path) -> dict:
    """Generate, upload and measure; return the result record."""
    import httpx

    size_bytes = size_mb * 2**20
    need = 2 * size_bytes + 2**28
    if shutil.disk_usage(work_dir).free < need:
        raise SystemExit(f"{work_dir}: need {need / 2**30:.1f} GiB free for this run")
    audio = write_wav(work_dir / "large.wav", size_bytes)
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
    server, url = _start_emulator(work_dir / "emulator", env)
    peak: dict[str, float] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_rss, args=(server.pid, peak, stop), daemon=True)
    watcher.start()
    try:
        client = subprocess.run(
            [sys.executable, "-m", "benchmarks.upload_memory", "--client", url, str(audio),
             str(work_dir / "state")],  # fmt: skip
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if client.returncode != 0:
            raise SystemExit(f"the client failed:\n{client.stderr}")
        measured = json.loads(client.stdout.strip().splitlines()[-1])
        record = httpx.get(f"{url}/emulator/calls/{measured['call_id']}", auth=(KEY, SECRET)).json()
    finally:
        stop.set()
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    intact = record["media"]["sha256"] == _sha256(audio)
    return {
        "benchmark": "upload_memory",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },  # fmt: skip
        "file_mb": size_mb,
        "file_bytes": audio.stat().st_size,
        "client_peak_rss_mb": round(measured["peak_rss_mb"], 1),
        "client_rss_before_upload_mb": round(measured["rss_before_upload_mb"], 1),
        "client_rss_limit_mb": RSS_LIMIT_MB,
        "client_rss_ok": measured["peak_rss_mb"] < RSS_LIMIT_MB,
        "emulator_peak_rss_mb": round(peak["mb"], 1) if "mb" in peak else None,
        "upload_call_s": round(measured["upload_call_s"], 2),
        "media_step_s": round(measured["media_s"], 2),
        "throughput_mb_s": round(size_mb / measured["media_s"], 1),
        "stored_media_intact": intact,
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (1 when a target is missed)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.upload_memory")
    parser.add_argument("--size-mb", type=int, default=1024, help="file size (default 1024)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--work-dir", type=Path, default=None, help="where to put the files")
    parser.add_argument("--client", nargs=3, metavar=("URL", "AUDIO", "STATE"), help="internal")
    args = parser.parse_args(argv)
    if args.client:
        _client(*args.client)
        return 0
    if args.size_mb < 1:
        parser.error("--size-mb must be at least 1")
    with tempfile.TemporaryDirectory(prefix="upload-memory-", dir=args.work_dir) as tmp:
        result = run(args.size_mb, Path(tmp))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{result['file_mb']} MB upload: client peak RSS {result['client_peak_rss_mb']} MB "
        f"(limit {RSS_LIMIT_MB:.0f}), emulator peak RSS {result['emulator_peak_rss_mb']} MB, "
        f"{result['throughput_mb_s']} MB/s over loopback, media intact: "
        f"{result['stored_media_intact']}\nwrote {args.output}"
    )
    return 0 if result["client_rss_ok"] and result["stored_media_intact"] else 1


if __name__ == "__main__":
    sys.exit(main())
