"""Mono diarization tied to the call's parties, and finding the rep's channel by voice.

`diarize_parties` runs speaker diarization (pyannote.audio, see `diarize.diarizer`) on a
recording, or on one channel of it, and maps the anonymous speakers to the call's parties:

1. **voiceprint**: speakers and enrolled parties are paired by best total cosine similarity
   (Hungarian), each pair kept only at or above the calibrated threshold;
2. **last-remaining**: when exactly one speaker and one party are left, they go together
   (an enrolled party whose print was compared and rejected is not left: its voice is known
   not to be that speaker's);
3. **unidentified**: when rules 1-2 tied no speaker to a party while some party could be any
   of them, inventing parties would give the call's parties none of its speech; with
   ``unknown="safe"`` (the default) nothing is mapped and `PartyDiarization.withheld` says why;
4. **new-party** or **dropped**: any other speaker becomes a new party ("Speaker N", fresh
   ``partyId``), or is left out with ``unknown="drop"``.

Boundaries come from pyannote's frame-level segmentation and are not refined against the
audio, so `PartyDiarization.precise` is always False.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from diarize.assignment import SpeakerAssignment
from diarize.audio import AudioSource
from diarize.diarizer import Diarizer, get_diarizer
from diarize.options import Options
from diarize.parties import new_party
from diarize.segments import Segment, merge_close
from diarize.speakers import SpeakerHints, SpeakerTurns
from diarize.voiceprints import VoiceprintStore, enroll, is_narrowband, match_voiceprints

__all__ = [
    "PartyDiarization",
    "diarize_parties",
    "enroll",
    "enrolled_prints",
    "find_rep_channel",
    "map_speakers",
    "speaker_hints",
    "unidentified_reason",
]


@dataclass
class PartyDiarization:
    """Diarization of a recording with its speakers tied to parties.

    Attributes
    ----------
    segments
        Speech turns whose ``speaker`` is a ``partyId``; they overlap where people talk at
        once, unless `Options.exclusive`.
    assignments
        How each anonymous speaker was mapped (rule and score).
    added_parties
        New parties for speakers that matched none (``unknown="add"``).
    precise
        Whether boundaries are known to be within 100 ms (never, for diarized speech).
    withheld
        Why no speaker was mapped (rule 3 of the module docstring), or None.
    """

    segments: list[Segment]
    assignments: list[SpeakerAssignment]
    added_parties: list[dict] = field(default_factory=list)
    precise: bool = False
    withheld: str | None = None


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
    prints = enrolled_prints(parties, options, narrowband)
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
    threshold = diarizer.config.voiceprints.threshold_for(narrowband)
    return map_speakers(turns, parties, options, threshold, prints)


def map_speakers(
    turns: SpeakerTurns,
    parties: list[dict],
    options: Options,
    voiceprint_threshold: float,
    prints: dict[str, np.ndarray],
) -> PartyDiarization:
    """Tie anonymous speakers to parties by the rules of the module docstring.

    Parameters
    ----------
    turns
        The anonymous speakers (from `Diarizer.speakers`).
    parties
        Candidate parties, each with a ``partyId``.
    options
        ``unknown`` and ``exclusive``.
    voiceprint_threshold
        Least cosine similarity of a voiceprint match.
    prints
        The enrolled parties' voiceprints (from `enrolled_prints`).
    """
    assigned: dict[str, SpeakerAssignment] = {}
    matches = match_voiceprints(turns.embeddings, prints, voiceprint_threshold)
    for label, party_id, score in matches:
        assigned[label] = SpeakerAssignment(label, party_id, "voiceprint", score)
    taken = {a.party_id for a in assigned.values()}
    rejected = {p for p in prints if p not in taken and turns.embeddings}
    left_parties = [p for p in parties if p["partyId"] not in taken | rejected]
    left_speakers = [s for s in turns.labels if s not in assigned]
    if len(left_parties) == 1 and len(left_speakers) == 1:
        label, party_id = left_speakers[0], left_parties[0]["partyId"]
        assigned[label] = SpeakerAssignment(label, party_id, "last-remaining")
    if not assigned and left_parties and left_speakers and options.unknown == "safe":
        return PartyDiarization(
            segments=[],
            assignments=[SpeakerAssignment(s, None, "unidentified") for s in turns.labels],
            withheld=unidentified_reason(len(left_speakers), len(left_parties)),
        )
    added: list[dict] = []
    for label in turns.labels:
        if label in assigned:
            continue
        if options.unknown == "drop":
            assigned[label] = SpeakerAssignment(label, None, "dropped")
            continue
        party = new_party(list(parties) + added, len(parties) + len(added) + 1)
        added.append(party)
        assigned[label] = SpeakerAssignment(label, party["partyId"], "new-party")
    source = turns.exclusive_segments if options.exclusive else turns.segments
    segments = merge_close(
        Segment(s.start_s, s.end_s, assigned[s.speaker].party_id)
        for s in source
        if assigned[s.speaker].party_id is not None
    )
    return PartyDiarization(
        segments=segments,
        assignments=[assigned[label] for label in turns.labels],
        added_parties=added,
        precise=False,
    )


def unidentified_reason(speakers: int, parties: int) -> str:
    """One line: why no timeline was made, and what would tie voices to parties."""
    voices = "the voice" if speakers == 1 else f"none of the {speakers} voices"
    return (
        f"no speakersTimeline: {voices} could be tied to a party ({parties} "
        f"part{'y' if parties == 1 else 'ies'} could be any of them); learn the rep's voice "
        "from dual-channel calls (--learn-voiceprints) or enroll it ('gong-diarize enroll'), "
        "or pass --unknown add to add the voices as new parties"
    )


def enrolled_prints(
    parties: list[dict], options: Options, narrowband: bool
) -> dict[str, np.ndarray]:
    """partyId -> the voiceprint to compare with, for the parties enrolled in the store of
    ``options.voiceprints`` (the narrowband ones for a telephone-band recording)."""
    store = VoiceprintStore(options.voiceprints)
    found = {party["partyId"]: store.find(party) for party in parties}
    return {key: p.for_recording(narrowband) for key, p in found.items() if p is not None}


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
