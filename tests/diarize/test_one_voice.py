"""A speaker that matches the rep's print but holds a second voice is not mapped to the rep.

The voices are real: the rep is FEE083 (print from her turns in AMI trn06, calls from her turns
in trn09), the customer is ``speaker91`` of pyannote.audio's sample. The merged speaker is what
diarization makes of a short noisy call: one label over both people's turns, whose blended
embedding still matches the rep's print. Tests skip where evaldata is absent.
"""

from __future__ import annotations

import numpy as np
import pytest

from diarize.audio import open_audio
from diarize.options import Options
from diarize.parties import map_speakers
from diarize.parties.one_voice import other_voice_check
from diarize.segments import Segment
from diarize.speakers import SpeakerTurns, embed_speech
from diarize.voiceprints import Voiceprint
from tests.models.voices import SAMPLE_RATE, build_call, evaldata_voice, sample_voice

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PARTIES = [{"partyId": "rep", "name": "Rep"}, {"partyId": "customer", "name": "Customer"}]


@pytest.fixture(scope="module")
def call(diarizer) -> tuple:
    """(the call's audio source, its turns as (start_s, end_s, voice), the rep's print)."""
    learn, rep = evaldata_voice("trn06", "FEE083"), evaldata_voice("trn09", "FEE083")
    if learn is None or rep is None:
        pytest.skip("AMI dev excerpts (../shared/evaldata) are not available")
    sample = np.concatenate(learn.turns[:4])
    vector, seconds = embed_speech(diarizer.embedder, sample, [(0.0, sample.size / SAMPLE_RATE)])
    print_ = Voiceprint.first_learned(
        "rep@example.com",
        vector,
        narrow_vector=None,
        seconds=seconds,
        band="wideband",
        call="learn",
    )
    # 16.8 s of the rep, 9.3 s of the customer in two turns (6.1 and 3.2 s)
    waveform, reference = build_call([rep, sample_voice("speaker91")], [0, 1, 0, 0, 1, 0])
    turns = [(t.start, t.end, label) for t, _, label in reference.itertracks(yield_label=True)]
    return open_audio(waveform, SAMPLE_RATE), turns, print_


def _turns(diarizer, source, turns, labels: dict[str, str]) -> SpeakerTurns:
    """Diarization's output with each voice given the label `labels` names for it."""
    segments = [Segment(s, e, labels[voice]) for s, e, voice in turns]
    waveform = source.read(SAMPLE_RATE)[0]
    embeddings, speech_s = {}, {}
    for label in set(labels.values()):
        spans = [(s.start_s, s.end_s) for s in segments if s.speaker == label]
        embeddings[label], _ = embed_speech(diarizer.embedder, waveform, spans)
        speech_s[label] = sum(e - s for s, e in spans)
    return SpeakerTurns(segments, segments, embeddings, speech_s)


def _map(diarizer, source, turns: SpeakerTurns, print_, *, check: bool, unknown="safe"):
    params = diarizer.config.voiceprints
    other_voice = other_voice_check(
        turns, source, diarizer.embedder, params, narrowband=False, window_s=1800.0
    )
    return map_speakers(
        turns,
        PARTIES,
        Options(unknown=unknown),
        params.threshold,
        {"rep": print_},
        other_voice=other_voice if check else None,
        other_voice_s=params.other_voice_s,
    )


def test_a_merged_speaker_matches_the_reps_print_and_is_not_mapped(diarizer, call) -> None:
    source, turns, print_ = call
    voices = {voice for _, _, voice in turns}
    merged = _turns(diarizer, source, turns, dict.fromkeys(voices, "SPEAKER_00"))
    unchecked = _map(diarizer, source, merged, print_, check=False)
    assert [a.rule for a in unchecked.assignments] == ["voiceprint"]  # the blend matches

    found = _map(diarizer, source, merged, print_, check=True)
    assert found.segments == [] and "another voice" in found.withheld
    (assignment,) = found.assignments
    assert assignment.rule == "two-voices" and assignment.party_id is None
    assert assignment.score == unchecked.assignments[0].score

    added = _map(diarizer, source, merged, print_, check=True, unknown="add")
    assert added.withheld is None and [a.rule for a in added.assignments] == ["new-party"]
    assert {s.speaker for s in added.segments} == {added.added_parties[0]["partyId"]}


def test_one_voice_per_speaker_is_mapped_as_before(diarizer, call) -> None:
    source, turns, print_ = call
    labels = {
        voice: "SPEAKER_01" if "speaker91" in voice else "SPEAKER_00" for _, _, voice in turns
    }
    apart = _turns(diarizer, source, turns, labels)
    params = diarizer.config.voiceprints
    seconds = other_voice_check(
        apart, source, diarizer.embedder, params, narrowband=False, window_s=1800.0
    )
    reference = print_.for_recording(False)
    assert seconds("SPEAKER_00", reference) == 0.0
    assert seconds("SPEAKER_01", reference) > params.other_voice_s  # the customer's 9.3 s

    found = _map(diarizer, source, apart, print_, check=True)
    assert found.withheld is None
    assert [(a.party_id, a.rule) for a in found.assignments] == [
        ("rep", "voiceprint"),
        ("customer", "last-remaining"),
    ]
