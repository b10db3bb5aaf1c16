"""Voiceprints learned from the rep's dual-channel calls, then used on mono calls.

All voices are real (AMI excerpts of ``../shared/evaldata`` and pyannote.audio's sample): the
rep is FEE083, learned from dual-channel calls built from her turns in one excerpt (trn06) and
recognised in mono calls built from another excerpt (trn09). Tests skip where evaldata is absent.
"""

from __future__ import annotations

import numpy as np
import pytest

from diarize import ChannelLayout, Options, process_call
from diarize.example import example_call
from diarize.voiceprints import VoiceprintStore
from tests.models.voices import SAMPLE_RATE, Voice, build_call, evaldata_voice, sample_voice

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REP_EMAIL = "fee083@example.com"


def _voice(uri: str, label: str) -> Voice:
    voice = evaldata_voice(uri, label)
    if voice is None:
        pytest.skip("AMI dev excerpts (../shared/evaldata) are not available")
    return voice


def _dual_channel(rep: Voice, customer: Voice, order: list[int]) -> np.ndarray:
    """Rep turns on the left, customer turns on the right (the customer leaks in, -26 dB)."""
    waveform, reference = build_call([rep, customer], order)
    left, right = waveform.copy(), waveform.copy()
    for turn, _, label in reference.itertracks(yield_label=True):
        silenced = right if label == rep.name else left
        silenced[int(turn.start * SAMPLE_RATE) : int(turn.end * SAMPLE_RATE)] = 0.0
    left[80:] += 0.05 * right[:-80]
    return np.stack([left, right])


def _call(client_id: str, rep_channel: int | None = 0) -> dict:
    call = example_call()
    call["clientUniqueId"] = client_id
    rep, customer = call["parties"][0], call["parties"][1]
    rep["emailAddress"] = REP_EMAIL
    rep.pop("mediaChannelId", None)
    customer.pop("mediaChannelId", None)
    if rep_channel is not None:
        rep["mediaChannelId"] = rep_channel
    return call


@pytest.fixture(scope="module")
def learned(tmp_path_factory, diarizer) -> tuple:
    """The rep's print learned from two dual-channel calls (different turns, customers)."""
    store = tmp_path_factory.mktemp("learned")
    rep = _voice("trn06", "FEE083")
    first = Voice(rep.name, [rep.turns[i] for i in (0, 2, 4)])  # 8.3 + 3.5 + 0.6 s
    second = Voice(rep.name, [rep.turns[i] for i in (1, 3)])  # 7.6 + 2.1 s
    results = []
    for n, (turns, customer) in enumerate(
        ((first, sample_voice("speaker91")), (second, _voice("dev00", "MEE009")))
    ):
        order = [0, 1] * 4  # turns are reused in turn: the second call has 9.7 s of turns
        audio = _dual_channel(turns, customer, order)
        options = Options(voiceprints=store, learn_voiceprints=True, device="cpu")
        results.append(process_call(audio, _call(f"learn-{n}"), sample_rate=16000, options=options))
    return store, results


def test_dual_channel_calls_teach_the_reps_print(learned) -> None:
    store, results = learned
    for n, result in enumerate(results, start=1):
        assert result.layout is ChannelLayout.DUAL_CHANNEL
        assert result.learning.learned, result.learning.reason
        assert result.learning.calls == n and result.learning.speech_s >= 8.0
        assert result.details["voiceprintLearning"]["printLearnedFromCalls"] == n
    rep = results[0].call["parties"][0]
    print_ = VoiceprintStore(store).find(rep)
    assert print_.party_key == rep["userId"]  # the userId comes first, the e-mail second
    assert print_.learned_calls == 2 and print_.narrowband is not None
    assert [h["call"] for h in print_.history] == ["learn-0", "learn-1"]
    assert print_.bands() == {"wideband": 2, "telephone": 0}


def test_the_same_call_does_not_teach_twice(learned, diarizer) -> None:
    store, _ = learned
    rep = _voice("trn06", "FEE083")
    audio = _dual_channel(rep, sample_voice("speaker91"), [0, 1] * 5)
    options = Options(voiceprints=store, learn_voiceprints=True, device="cpu")
    result = process_call(audio, _call("learn-0"), sample_rate=16000, options=options)
    assert not result.learning.learned and "before" in result.learning.reason
    assert VoiceprintStore(store).find(result.call["parties"][0]).learned_calls == 2


@pytest.mark.parametrize("customer", ["speaker91", "MEE009"])
def test_mono_calls_of_another_recording_map_the_rep_by_the_learned_print(
    learned, customer
) -> None:
    store, _ = learned
    rep = _voice("trn09", "FEE083")  # another recording than the one learned from
    other = sample_voice("speaker91") if customer == "speaker91" else _voice("dev01", "MEE009")
    waveform, reference = build_call([rep, other], [0, 1, 0, 1, 0, 1, 0, 1])
    options = Options(voiceprints=store, device="cpu")
    result = process_call(
        waveform, _call("mono", rep_channel=None), sample_rate=16000, options=options
    )
    assert result.layout is ChannelLayout.MONO and result.timeline_withheld is None
    rules = {a.party_id: a for a in result.assignments}
    rep_id = result.call["parties"][0]["partyId"]
    assert rules[rep_id].rule == "voiceprint" and rules[rep_id].learned_calls == 2
    assert rules[rep_id].score >= 0.5
    assert {a.rule for a in result.assignments} == {"voiceprint", "last-remaining"}
    rep_s = sum(
        min(s.end_s, t.end) - max(s.start_s, t.start)
        for s in result.segments
        if s.speaker == rep_id
        for t, _, label in reference.itertracks(yield_label=True)
        if label == rep.name and min(s.end_s, t.end) > max(s.start_s, t.start)
    )
    assert rep_s > 0.8 * sum(s.duration_s for s in result.segments if s.speaker == rep_id)


def test_a_channel_with_two_voices_teaches_nothing(tmp_path, diarizer) -> None:
    """The rep's channel holds two people (a shared line): no print is made."""
    two = Voice("two", [*_voice("trn06", "FEE083").turns[:3], *_voice("trn05", "FEE078").turns[:2]])
    two.turns = [two.turns[i] for i in (0, 3, 1, 4, 2)]  # the two voices take turns
    audio = _dual_channel(two, sample_voice("speaker91"), [0, 1] * 5)
    options = Options(voiceprints=tmp_path, learn_voiceprints=True, device="cpu")
    result = process_call(audio, _call("shared"), sample_rate=16000, options=options)
    assert not result.learning.learned
    assert "more than one voice" in result.learning.reason
    assert VoiceprintStore(tmp_path).prints() == []


def test_learning_is_off_unless_asked(tmp_path, diarizer) -> None:
    audio = _dual_channel(_voice("trn06", "FEE083"), sample_voice("speaker91"), [0, 1] * 4)
    result = process_call(
        audio, _call("off"), sample_rate=16000, options=Options(voiceprints=tmp_path)
    )
    assert result.learning is None and "voiceprintLearning" not in result.details
    assert not tmp_path.exists() or VoiceprintStore(tmp_path).prints() == []
