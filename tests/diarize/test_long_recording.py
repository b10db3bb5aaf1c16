"""A 2-hour stereo 44.1 kHz call goes through the timeline command with bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from diarize.example import example_call, stereo_example

HOURS = 2.0
_PEAK_PROBE = """
import re, sys
from diarize.__main__ import app
try:
    app(sys.argv[1:])
except SystemExit as exit:
    if exit.code:
        raise
status = open("/proc/self/status").read()
print(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
"""
RATE = 44_100


@pytest.mark.slow
def test_two_hour_stereo_wav_stays_under_1_gib(tmp_path):
    call_samples = resample_poly(stereo_example(bleed_db=-25.0).samples, 441, 160, axis=1)
    block = (call_samples.T * 0.9).astype(np.float32)  # 30 s of a real call
    audio = tmp_path / "long.wav"
    with sf.SoundFile(audio, "w", RATE, 2, subtype="PCM_16") as out:
        for _ in range(int(HOURS * 3600 / 30)):
            out.write(block)
    call = tmp_path / "call.json"
    call.write_text(json.dumps(example_call()))
    out_json = tmp_path / "enriched.json"
    # The CLI runs in a fresh interpreter that reports its own high-water mark (VmHWM):
    # ru_maxrss would also count the memory of this test process, which it inherits at fork.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _PEAK_PROBE,
            "timeline",
            str(audio),
            "--call",
            str(call),
            "-o",
            str(out_json),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr
    peak_mib = int(done.stdout.split()[-1]) / 1024
    assert peak_mib < 1024, f"peak RSS {peak_mib:.0f} MiB"
    speech = json.loads(out_json.read_text())["speakersTimeline"]["speechSegments"]
    assert speech[-1]["toTime"] > (HOURS * 3600 - 60) * 1000
    assert len(speech) > HOURS * 120 * 6  # every 30 s repetition contributes its turns
