"""Learning the rep's voiceprint from dual-channel calls (``--learn-voiceprints``).

A dual-channel call whose rep channel is known (``mediaChannelId``, ``--rep-channel``) is a
clean, labelled sample of the rep's voice. When learning is asked for, and the rep's party has
a ``userId`` or ``emailAddress``, the rep channel's own speech (after the stereo pass removed
the customer's voice leaking into it) is diarized alone and, if it passes the gates of
`LearningParams`, added to the rep's print in the store (`Voiceprint.learned`: a running
aggregate that records calls, seconds, band and model).

The gates:

- enough clean speech (``min_speech_s``);
- one voice: a conference bridge, a shared headset or a second person on the rep's line
  teaches nothing;
- the band: a telephone-band recording (8 kHz or less) teaches the print's narrowband
  embedding; a full-band one teaches the full-band embedding and, through a simulated
  telephone line, the narrowband one.

Nothing here logs or returns an embedding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from diarize.audio import AudioSource
from diarize.errors import ConfigError
from diarize.options import Options
from diarize.segments import Segment
from diarize.speakers import SAMPLE_RATE, embed_speech, mono_windows
from diarize.voiceprints import (
    Band,
    Voiceprint,
    VoiceprintStore,
    is_narrowband,
    party_keys,
    telephone_band,
)
from models.params import load_params

__all__ = ["LearningOutcome", "LearningParams", "learn_rep_voice", "load_learning_params"]

PARAMS_FILE = "voiceprint-learning.yaml"
_MAX_LEARN_SPEECH_S = 60.0  # the most speech one call's embedding is made from
_PAD_S = 0.05


@dataclass(frozen=True)
class LearningParams:
    """Gates of learning (see ``models/voiceprint-learning.yaml``)."""

    min_speech_s: float = 8.0
    other_voice_s: float = 3.0
    other_voice_share: float = 0.1


def load_learning_params(path: str | Path | None = None) -> tuple[int, LearningParams]:
    """The learning gates and their version (default ``models/voiceprint-learning.yaml``)."""
    return load_params(path or PARAMS_FILE, LearningParams)


@dataclass(frozen=True)
class LearningOutcome:
    """What one call taught (or why it taught nothing).

    Attributes
    ----------
    party_id
        The rep's party.
    learned
        Whether the print was updated.
    reason
        Why not, in a few words (None when learned).
    speech_s
        Seconds of the rep's speech the call offered (or was learned from).
    band
        ``"wideband"`` or ``"telephone"``.
    calls
        Calls the rep's print is now learned from (0: no print).
    """

    party_id: str
    learned: bool
    reason: str | None
    speech_s: float
    band: Band
    calls: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "partyId": self.party_id,
            "learned": self.learned,
            "reason": self.reason,
            "speechSeconds": round(self.speech_s, 1),
            "band": self.band,
            "printLearnedFromCalls": self.calls,
        }

    def describe(self) -> str:
        """One line for the CLI summary."""
        if self.learned:
            return (
                f"voiceprint learned: {self.speech_s:.1f} s of {self.band} speech; "
                f"the print is now learned from {self.calls} call(s)"
            )
        return f"voiceprint not learned: {self.reason}"


def learn_rep_voice(
    source: AudioSource,
    rep_party: dict,
    rep_channel: int,
    rep_speech: list[Segment],
    options: Options,
    *,
    call_id: str | None = None,
    diarizer: Any = None,
) -> LearningOutcome:
    """Update the rep's voiceprint from the rep channel of a dual-channel call.

    Parameters
    ----------
    source
        The stereo recording.
    rep_party
        The rep's party (its ``userId``, else ``emailAddress``, is the print's key).
    rep_channel
        0 or 1.
    rep_speech
        The rep channel's own speech (the stereo pass's segments, leaks removed).
    options
        The voiceprint store, and pipeline / device for the diarizer.
    call_id
        The call's ``clientUniqueId``: recorded in the print, and a call already learned
        from is not learned again.
    diarizer
        A loaded `diarize.diarizer.Diarizer` (default: the one `options` describe).
    """
    band: Band = "telephone" if is_narrowband(source) else "wideband"
    party_id = str(rep_party.get("partyId"))
    spans = [(s.start_s, s.end_s) for s in rep_speech if s.end_s > s.start_s]
    speech_s = sum(end - start for start, end in spans)

    def outcome(reason: str | None, seconds: float = speech_s, calls: int = 0) -> LearningOutcome:
        return LearningOutcome(party_id, reason is None, reason, seconds, band, calls)

    keys = party_keys(rep_party)
    if not keys:
        return outcome("the rep's party has no userId or emailAddress to keep a print under")
    store = VoiceprintStore(options.voiceprints)
    try:
        existing = [p for p in (store.load(k) for k in keys) if p is not None]
    except ConfigError as exc:
        return outcome(f"the voiceprint store cannot be read ({exc})")
    key = existing[0].party_key if existing else keys[0]
    calls = existing[0].learned_calls if existing else 0
    if call_id and existing and any(h.get("call") == call_id for h in existing[0].history):
        return outcome("this call was learned from before", calls=calls)
    _, params = load_learning_params()
    if speech_s < params.min_speech_s:
        return outcome(
            f"only {speech_s:.1f} s of clean speech on the rep's channel "
            f"({params.min_speech_s:.0f} s needed)",
            calls=calls,
        )

    from diarize.diarizer import get_diarizer  # loads torch: only when learning

    diarizer = diarizer or get_diarizer(options)
    turns = diarizer.speakers(source, channel=rep_channel, speech=spans)
    main = turns.dominant()
    if main is None:
        return outcome("no voice on the rep's channel spoke long enough alone", calls=calls)
    same_voice = diarizer.config.voiceprints.threshold
    total_s = sum(turns.speech_s.values())
    rep_labels = [main]
    for label in turns.labels:
        if label == main:
            continue
        other_s = turns.speech_s.get(label, 0.0)
        vector = turns.embeddings.get(label)
        if vector is not None and float(vector @ turns.embeddings[main]) >= same_voice:
            rep_labels.append(label)  # one voice that diarization split in two: all the rep's
            continue
        if other_s > max(params.other_voice_s, params.other_voice_share * total_s):
            return outcome(
                f"the rep's channel holds more than one voice (a second one speaks "
                f"{other_s:.0f} s): a bridge or a shared line teaches nothing",
                calls=calls,
            )
    main_spans = sorted(span for label in rep_labels for span in turns.spans_of(label))
    vector, used_s = _embed_channel(diarizer, source, rep_channel, main_spans, narrow=False)
    if vector is None or used_s < min(params.min_speech_s, _MAX_LEARN_SPEECH_S):
        return outcome(
            f"only {used_s:.1f} s of the rep's voice alone ({params.min_speech_s:.0f} s needed)",
            calls=calls,
        )
    narrow_vector = None
    if band == "wideband":
        narrow_vector, _ = _embed_channel(diarizer, source, rep_channel, main_spans, narrow=True)
    version = diarizer.config.version

    def change(current: Voiceprint | None) -> Voiceprint:
        learned = {"seconds": used_s, "band": band, "call": call_id, "config_version": version}
        if current is None:
            return Voiceprint.first_learned(key, vector, narrow_vector=narrow_vector, **learned)
        return current.learned(vector, narrow_vector, **learned)

    try:
        updated = store.update(key, change)
    except (ConfigError, OSError) as exc:
        return outcome(f"the voiceprint store cannot be written ({type(exc).__name__})")
    return outcome(None, seconds=used_s, calls=updated.learned_calls if updated else 0)


def _embed_channel(
    diarizer: Any,
    source: AudioSource,
    channel: int,
    spans: list[tuple[float, float]],
    *,
    narrow: bool,
) -> tuple[np.ndarray | None, float]:
    """The CAM++ embedding of one channel's `spans` (longest first, up to 60 s), optionally
    as a telephone line would carry them; reads only the windows that hold those spans."""
    chosen = sorted(spans, key=lambda s: s[0] - s[1])
    kept: list[tuple[float, float]] = []
    total = 0.0
    for start, end in chosen:
        if total >= _MAX_LEARN_SPEECH_S:
            break
        kept.append((start, end))
        total += end - start
    kept.sort()
    pieces: list[np.ndarray] = []
    local: list[tuple[float, float]] = []
    at = 0.0
    window_s = diarizer.config.long_form.window_s
    for offset_s, waveform in mono_windows(source, window_s, channel=channel):
        window_end = offset_s + waveform.shape[0] / SAMPLE_RATE
        for start, end in kept:
            start, end = max(start, offset_s), min(end, window_end)
            if end - start <= 0:
                continue
            a, b = (int((t - offset_s) * SAMPLE_RATE) for t in (start, end))
            pieces.append(waveform[a:b])
            duration = (b - a) / SAMPLE_RATE
            local.append((at + _PAD_S, at + duration - _PAD_S))
            at += duration
        if kept and window_end >= kept[-1][1]:
            break
    if not pieces:
        return None, 0.0
    joined = np.concatenate(pieces).astype(np.float32)
    if narrow:
        joined = telephone_band(joined, SAMPLE_RATE)
    return embed_speech(diarizer.embedder, joined, local, max_speech_s=_MAX_LEARN_SPEECH_S)
