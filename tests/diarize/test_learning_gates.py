"""The learning gates on a rep channel that diarization split: one voice in two clusters.

The call is the rep-mapping benchmark's (`benchmarks.data.rep_calls`): real AMI voices, the rep
MEE009 on one channel, MEE075 on the other leaking 21 dB down. Diarization of the rep's channel
finds two clusters of the rep's one voice (similarity 0.69, over the 0.5 threshold): the gate
must take the speech of both, not only of the larger one (7.2 s, under the 8 s needed).
"""

from __future__ import annotations

import pytest

from benchmarks.data.rep_calls import available_reps, dual_channel_call
from benchmarks.rep_mapping import _call_json
from diarize import Options, process_call
from diarize.voiceprints import VoiceprintStore

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_rep_voice_split_in_two_clusters_is_learned_from_both(tmp_path, diarizer) -> None:
    reps = available_reps(["MEE009"])
    if not reps:
        pytest.skip("AMI dev excerpts (../shared/evaldata) are not available")
    built = dual_channel_call(reps[0], 4, "clean", tmp_path / "audio")
    call = _call_json(reps[0], built.name, built.drawn["rep_channel"])
    options = Options(voiceprints=tmp_path / "store", learn_voiceprints=True, device="cpu")
    result = process_call(built.audio, call, sample_rate=built.sample_rate, options=options)
    assert result.learning.learned, result.learning.reason
    assert result.learning.speech_s >= 10.0  # both clusters: 7.2 s in the larger one alone
    print_ = VoiceprintStore(tmp_path / "store").find(result.call["parties"][0])
    assert print_.learned_calls == 1
