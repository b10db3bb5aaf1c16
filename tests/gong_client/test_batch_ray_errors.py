"""`batch --ray` when Ray cannot be used: one line that says why, at once, and no work done;
and `batch` without ``--ray`` never imports Ray. (No Ray instance is started here.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gong_client.batch import run_batch
from gong_client.batch.errors import BatchError
from tests.gong_client.batch_calls import manifest_line, stereo_call, write_stereo

ROOT = Path(__file__).resolve().parents[2]


def _manifest(folder: Path, audio: str = "missing.wav") -> Path:
    """A manifest of one call; unless its recording is written, no worker is ever needed."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "calls.jsonl"
    manifest.write_text(manifest_line(audio, stereo_call("one-call")))
    return manifest


def test_without_ray_installed_the_error_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` does where it is absent
    manifest = _manifest(tmp_path / "in", "empty.wav")
    (tmp_path / "in" / "empty.wav").write_bytes(b"")  # a job: the batch needs an executor
    with pytest.raises(BatchError) as caught:
        run_batch(manifest, tmp_path / "out", ray="local")
    message = str(caught.value)
    assert "pip install '.[ray]'" in message and "\n" not in message


def test_an_unreachable_cluster_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="the Ray extra is not installed (pip install '.[ray]')")
    manifest = _manifest(tmp_path / "in", "call.wav")
    write_stereo(tmp_path / "in" / "call.wav", 1)  # a job: the batch needs an executor
    for address, expected in (
        ("127.0.0.1:1", "cannot reach a Ray cluster at 127.0.0.1:1"),
        ("host:port", "not an address"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "gong_client", "batch", str(manifest), "--out",
             str(tmp_path / "out"), "--ray", address, "--quiet"],
            capture_output=True, text=True, cwd=ROOT, timeout=120,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], done.stderr
        assert "Traceback" not in done.stderr


def test_a_batch_without_ray_imports_none_of_it(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path / "in")
    script = (
        "import sys\n"
        "from gong_client.batch import run_batch\n"
        f"result = run_batch({str(manifest)!r}, {str(tmp_path / 'out')!r}, workers=1)\n"
        "print(result.totals['failed'], 'ray' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "False"]
