"""The stereo pass on real speech: each speaker of pyannote.audio's sample on its own channel."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from diarize.audio import open_audio
from diarize.bleed import frame_coherence, frame_levels_db
from diarize.channels import ChannelLayout
from diarize.example import load_sample, stereo_example
from diarize.segments import Segment
from diarize.stereo import analyze_stereo, load_stereo_params
from models.silero import FRAME_SAMPLES, load_silero_vad
from tests.scoring import boundary_recall, der


@pytest.mark.parametrize("bleed_db", [None, -30.0, -20.0, -10.0])
def test_dual_channel_speech_matches_reference(bleed_db):
    example = stereo_example(bleed_db=bleed_db)
    analysis = analyze_stereo(open_audio(example.samples, 16000))
    assert analysis.layout is ChannelLayout.DUAL_CHANNEL
    assert der(example.reference, analysis.segments) < 0.10
    assert boundary_recall(example.reference, analysis.segments) >= 0.9


def test_bleed_is_removed_but_not_without_it():
    clean = analyze_stereo(open_audio(stereo_example(None).samples, 16000))
    leaky = analyze_stereo(open_audio(stereo_example(-20.0, delay_ms=8).samples, 16000))
    assert sum(leaky.leaked_frames) > 100
    assert sum(clean.leaked_frames) < 10
    # the leaked speech does not show up as the other channel's speech
    speech = {
        ch: sum(s.duration_s for s in leaky.segments if s.speaker == ch) for ch in ("ch0", "ch1")
    }
    reference = {
        ch: sum(s.duration_s for s in stereo_example(None).reference if s.speaker == ch)
        for ch in ("ch0", "ch1")
    }
    for ch in ("ch0", "ch1"):
        assert speech[ch] < reference[ch] * 1.15


def test_real_overlap_survives_bleed():
    """A short "yeah" on one channel while the other talks is speech, not leak."""
    example = stereo_example(bleed_db=-20.0)
    samples, rate, turns = load_sample()
    short = next(t for t in turns if t.speaker == "speaker91" and t.duration_s < 1.0)
    snippet = samples[int(short.start_s * rate) : int(short.end_s * rate)]
    at_s = 12.0  # inside a long turn of the rep (channel 0)
    start = int(at_s * rate)
    mixed = example.samples.copy()
    mixed[1, start : start + len(snippet)] += snippet
    mixed[0, start + 80 : start + 80 + len(snippet)] += 0.1 * snippet  # its own leak
    analysis = analyze_stereo(open_audio(mixed, rate))
    inserted = Segment(at_s, at_s + short.duration_s, "ch1")
    found = [
        s
        for s in analysis.segments
        if s.speaker == "ch1" and s.end_s > at_s and s.start_s < inserted.end_s
    ]
    covered = sum(min(s.end_s, inserted.end_s) - max(s.start_s, at_s) for s in found)
    assert covered >= 0.7 * inserted.duration_s


def test_duplicated_mono_is_recognised():
    samples, rate, _ = load_sample()
    near_copy = np.stack(
        [
            samples,
            0.8 * np.roll(samples, 16)
            + 1e-4 * np.random.default_rng(0).standard_normal(len(samples)),
        ]
    )
    for stereo in (np.stack([samples, samples]), near_copy.astype(np.float32)):
        analysis = analyze_stereo(open_audio(stereo, rate))
        assert analysis.layout is ChannelLayout.DUPLICATED_MONO


@pytest.mark.parametrize("silent", [0, 1])
def test_one_silent_channel_is_recognised(silent):
    samples, rate, _ = load_sample()
    stereo = np.zeros((2, len(samples)), dtype=np.float32)
    stereo[1 - silent] = samples
    analysis = analyze_stereo(open_audio(stereo, rate))
    assert analysis.layout is ChannelLayout.ONE_SILENT_CHANNEL
    assert analysis.silent_channel == silent


def test_progress_hook_reaches_the_end():
    calls = []
    example = stereo_example(None)
    analyze_stereo(open_audio(example.samples, 16000), hook=lambda *a: calls.append(a))
    assert calls and calls[-1][1] == calls[-1][2] == 30


def test_leaks_across_block_edges_are_those_of_one_pass():
    """The pass reads 60 s blocks; a frame at a block's start is scored against the end of the
    block before. The leaks found are those of the definition over the whole recording."""
    example = stereo_example(bleed_db=-20.0, delay_ms=25)  # reaching 400 samples back
    rate, frame = 16000, FRAME_SAMPLES
    # 150 s of the leaky call, cut so that both block edges fall inside speech
    stereo = np.tile(example.samples, 6)[:, 8 * rate :]
    stereo = np.ascontiguousarray(stereo[:, : len(stereo[0]) // frame * frame], dtype=np.float32)
    analysis = analyze_stereo(open_audio(stereo, rate))
    params = load_stereo_params()[1]
    vad = load_silero_vad()
    streams = [vad.stream(), vad.stream()]
    block = 60 * rate
    probs = np.concatenate(
        [
            np.stack(vad.process(streams, list(stereo[:, at : at + block])))
            for at in range(0, stereo.shape[1], block)
        ],
        axis=1,
    )
    num_frames = stereo.shape[1] // frame
    levels = frame_levels_db(stereo.reshape(2, num_frames, frame))
    max_delay = int(params.bleed.max_delay_ms * rate / 1000)
    padded = np.concatenate([np.zeros((2, max_delay), dtype=np.float32), stereo], axis=1)
    expected, scored = [], []
    for ch in (0, 1):
        candidates = np.flatnonzero(
            (probs[ch] >= params.vad.offset)
            & (levels[1 - ch] - levels[ch] >= params.bleed.min_level_gap_db)
        )
        starts = max_delay + candidates * frame
        coherence = frame_coherence(padded[ch], padded[1 - ch], starts, frame, max_delay)
        expected.append(int(np.count_nonzero(coherence >= params.bleed.min_coherence)))
        scored.append(candidates)
    # each block's first frame is scored on one of the channels
    for edge in (block // frame, 2 * block // frame):
        assert any(edge in candidates for candidates in scored)
    assert list(analysis.leaked_frames) == expected
    assert min(expected) > 500


def test_the_stereo_path_imports_neither_torch_nor_pyannote() -> None:
    """A stereo call starts in under 2 s with 150 MB: torch (2 s, 600 MB) and pyannote load
    only when a mono call is diarized."""
    code = (
        "import sys, diarize.pipeline\n"
        "print(sorted(m for m in ('torch', 'pyannote.core', 'pyannote.audio') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"
