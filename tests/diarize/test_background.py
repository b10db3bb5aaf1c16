"""Background talk: past the party count, a quiet voice of its own is dropped, not merged in.

A call-centre floor or a television behind a caller is speech to every model, and diarized
without a cap it becomes a speaker of its own. When the call has fewer parties than speakers
found, merging that speaker into a party (or worse, merging the two real voices because the
background is farther from both) is wrong; it is dropped instead when it is quiet and unlike
every real voice. Real audio: pyannote.audio's 2-speaker telephone sample with other real
voices (AMI) mixed in quietly as the background.
"""

from __future__ import annotations

import numpy as np
import pytest

from diarize.audio import open_audio
from diarize.speakers import DROPPED, SpeakerHints, SpeakerLinker
from tests.models.voices import SAMPLE_RATE, der, sample_audio, sample_reference


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _three_speakers(background_distance: float) -> tuple[SpeakerLinker, dict[str, int]]:
    """Two voices 0.45 apart (as telephone voices can be) and a third one."""
    rng = np.random.default_rng(0)
    a = _unit(rng.normal(size=192))
    b = _unit(0.55 * a + np.sqrt(1 - 0.55**2) * _unit(rng.normal(size=192)))
    other = _unit(rng.normal(size=192))
    near = 1.0 - background_distance
    c = _unit(near * a + np.sqrt(max(0.0, 1 - near**2)) * other)
    linker = SpeakerLinker(link_threshold=0.5)
    mapping = linker.link({"A": (a, 12.0), "B": (b, 10.0), "C": (c, 5.0)})
    return linker, mapping


def test_a_quiet_speaker_unlike_the_others_is_dropped_before_voices_merge() -> None:
    linker, m = _three_speakers(background_distance=0.8)
    levels = {m["A"]: -26.0, m["B"]: -27.0, m["C"]: -44.0}
    merged = linker.merge_down(2, levels, background_db=10.0)
    assert merged[m["C"]] == DROPPED
    assert merged[m["A"]] == m["A"] and merged[m["B"]] == m["B"]


def test_without_levels_the_closest_voices_merge_as_before() -> None:
    linker, m = _three_speakers(background_distance=0.8)
    merged = linker.merge_down(2)
    assert merged[m["A"]] == merged[m["B"]] and merged[m["C"]] == m["C"]


@pytest.mark.parametrize(
    ("distance", "gap_db"),
    [(0.3, 18.0), (0.8, 6.0)],
    ids=["a-quiet-stretch-of-a-real-voice", "not-quiet-enough"],
)
def test_a_speaker_is_kept_when_it_matches_a_voice_or_is_not_quiet(distance, gap_db) -> None:
    linker, m = _three_speakers(background_distance=distance)
    levels = {m["A"]: -26.0, m["B"]: -27.0, m["C"]: -26.0 - gap_db}
    merged = linker.merge_down(2, levels, background_db=10.0)
    assert DROPPED not in merged.values()
    assert len(set(merged.values())) == 2


def test_fragments_too_short_to_embed_go_once_the_cap_is_reached() -> None:
    linker, m = _three_speakers(background_distance=0.8)
    short = linker.link({"D": (None, 0.3)})["D"]
    levels = {m["A"]: -26.0, m["B"]: -27.0, m["C"]: -44.0}
    merged = linker.merge_down(2, levels, background_db=10.0)
    assert merged[short] == DROPPED and merged[m["C"]] == DROPPED
    assert len({v for v in merged.values() if v != DROPPED}) == 2


@pytest.fixture(scope="module")
def call_with_background() -> tuple[np.ndarray, list]:
    """The real telephone sample with three other real voices 18 dB under it."""
    from benchmarks.data.items import _babble_talkers

    call = sample_audio()
    try:
        talkers = _babble_talkers({"speaker90", "speaker91"})
    except Exception as exc:  # no ../shared/evaldata here
        pytest.skip(f"no background voices: {exc}")
    rng = np.random.default_rng(3)
    babble = np.zeros_like(call)
    for clip in rng.choice(len(talkers), size=3 * 20, replace=True):
        voice = talkers[int(clip)][: call.shape[0]]
        start = int(rng.integers(0, max(1, call.shape[0] - voice.shape[0])))
        babble[start : start + voice.shape[0]] += voice
    level = np.sqrt(np.mean(np.square(call))) / np.sqrt(np.mean(np.square(babble)))
    return (call + babble * level * 10 ** (-18 / 20)).astype(np.float32), sample_reference()


def test_background_talk_does_not_merge_the_two_parties(diarizer, call_with_background) -> None:
    audio, reference = call_with_background
    turns = diarizer.speakers(open_audio(audio, SAMPLE_RATE), hints=SpeakerHints(max_speakers=2))
    assert len(turns.labels) == 2
    assert der(reference, turns.segments) < 0.25
