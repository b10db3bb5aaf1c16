"""Speaker diarization of a call's recording, and finding the rep's channel by voice.

`diarize_parties` runs speaker diarization (pyannote.audio, see `diarize.diarizer`) on a
recording, or on one channel of it, then ties the anonymous speakers to the call's parties by
the rules of `diarize.parties.speakers`. `find_rep_channel` finds which channel of a stereo
recording holds the rep's enrolled or learned voice.

Boundaries come from pyannote's frame-level segmentation and are not refined against the
audio, so `PartyDiarization.precise` is always False.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from diarize.audio import AudioSource
from diarize.diarizer import Diarizer, get_diarizer
from diarize.options import Options
from diarize.parties.one_voice import other_voice_check
from diarize.parties.speakers import PartyDiarization, enrolled_prints, map_speakers
from diarize.speakers import SpeakerHints
from diarize.voiceprints import VoiceprintStore, is_narrowband

__all__ = ["diarize_parties", "find_rep_channel", "speaker_hints"]


def speaker_hints(parties: list[dict], options: Options) -> SpeakerHints:
    """Speaker-count hints: the options when given, else the party count bounds the maximum."""
    if options.num_speakers is not None:
        return SpeakerHints(num_speakers=options.num_speakers)
    maximum = options.max_speakers
    if maximum is None and parties:
        maximum = max(len(parties), options.min_speakers or 0)
    return SpeakerHints(min_speakers=options.min_speakers, max_speakers=maximum)


def diarize_parties(
    source: AudioSource,
    parties: list[dict],
    options: Options,
    *,
    channel: int | None = None,
    speech: Sequence[tuple[float, float]] | None = None,
    diarizer: Diarizer | None = None,
) -> PartyDiarization:
    """Diarize `source` and map its speakers to `parties`.

    Parameters
    ----------
    source
        The recording; downmixed, or only `channel` (the conference-bridge side of a hybrid
        stereo call).
    parties
        The parties these voices may belong to, each with a ``partyId``.
    options
        Pipeline, token, device, speaker-count hints, ``unknown``, ``exclusive``, voiceprint
        store and progress hook (reported as ``("diarization", seconds done, seconds)``).
    channel
        0 or 1 to diarize one channel only.
    speech
        Where that channel's own speech is ((start_s, end_s) spans, e.g. the stereo pass's,
        with the other side's leaked voice removed); everything else is left out.
    diarizer
        A loaded backend (default: the one `options` describe, loaded once per process).

    Returns
    -------
    PartyDiarization

    Raises
    ------
    ModelLoadError, ConfigError, AudioLoadError, ChannelLayoutError
    """
    diarizer = diarizer or get_diarizer(options)
    total_s = max(1, round(source.info.duration_s))

    reported = [0]

    def progress(done_s: float) -> None:
        done = min(total_s, round(done_s))
        if done > reported[0]:  # stages overlap in pyannote's hooks: never go backwards
            reported[0] = done
            options.progress("diarization", done, total_s)

    options.progress("diarization", 0, total_s)
    narrowband = is_narrowband(source)
    prints = enrolled_prints(parties, options)
    turns = diarizer.speakers(
        source,
        channel=channel,
        hints=speaker_hints(parties, options),
        speech=speech,
        embeddings=bool(prints),
        progress=progress,
    )
    if reported[0] < total_s:
        options.progress("diarization", total_s, total_s)
    params = diarizer.config.voiceprints
    other_voice = other_voice_check(
        turns,
        source,
        diarizer.embedder,
        params,
        narrowband=narrowband,
        window_s=diarizer.config.long_form.window_s,
        channel=channel,
    )
    return map_speakers(
        turns,
        parties,
        options,
        params.threshold_for(narrowband),
        prints,
        narrowband,
        other_voice=other_voice,
        other_voice_s=params.other_voice_s,
    )


def find_rep_channel(
    source: AudioSource, rep_party: dict, options: Options, *, diarizer: Diarizer | None = None
) -> tuple[int, float] | None:
    """Which channel of a stereo recording holds the enrolled rep's voice.

    Each channel's first ``voiceprints.rep_search_s`` seconds are diarized; a channel's score
    is the best similarity of its voices to the rep's print.

    Parameters
    ----------
    source
        A two-channel recording.
    rep_party
        The rep's party (its ``userId`` or ``emailAddress`` is the voiceprint key).
    options
        Voiceprint store, pipeline, device.
    diarizer
        A loaded backend (default: the one `options` describe).

    Returns
    -------
    (channel, score) or None
        None for a recording that is not stereo, a rep without a voiceprint, or when neither
        channel is clearly the rep's (best score under the threshold, or within
        ``voiceprints.rep_margin`` of the other channel's).
    """
    if source.info.num_channels != 2:
        return None
    print_ = VoiceprintStore(options.voiceprints).find(rep_party)
    if print_ is None:
        return None
    diarizer = diarizer or get_diarizer(options)
    params = diarizer.config.voiceprints
    scores = []
    narrowband = is_narrowband(source)
    reference = print_.for_recording(narrowband)
    threshold = params.threshold_for(narrowband)
    for channel in (0, 1):
        turns = diarizer.speakers(source, channel=channel, limit_s=params.rep_search_s)
        similarities = [float(v @ reference) for v in turns.embeddings.values()]
        scores.append(max(similarities, default=-1.0))
    best = int(np.argmax(scores))
    if scores[best] < threshold or scores[best] - scores[1 - best] < params.rep_margin:
        return None
    return best, scores[best]
