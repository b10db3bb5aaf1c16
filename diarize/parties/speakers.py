"""Tying the anonymous speakers of a diarized recording to the call's parties.

The rules, in order:

1. **voiceprint**: speakers and parties with a voiceprint (enrolled, or learned from the rep's
   dual-channel calls) are paired by best total cosine similarity (Hungarian), each pair kept
   only at or above the calibrated threshold (telephone-band prints and threshold for a
   telephone-band recording); a matched speaker whose turns are partly clearly another voice
   (two voices diarized as one, `diarize.parties.one_voice`) is **two-voices**: no party gets
   it, and with ``unknown="safe"`` the call keeps no timeline;
2. **last-remaining**: when exactly one speaker and one party are left, they go together
   (an enrolled party whose print was compared and rejected is not left: its voice is known
   not to be that speaker's);
3. **unidentified**: when rules 1-2 tied no speaker to a party while some party could be any
   of them, inventing parties would give the call's parties none of its speech; with
   ``unknown="safe"`` (the default) nothing is mapped and `PartyDiarization.withheld` says why;
4. **new-party** or **dropped**: any other speaker becomes a new party ("Speaker N", fresh
   ``partyId``), or is left out with ``unknown="drop"``.

Channels are tied to parties in `diarize.parties.channels`; the speakers themselves come from
`diarize.diarization`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from diarize.assignment import SpeakerAssignment
from diarize.options import Options
from diarize.parties.channels import new_party
from diarize.parties.one_voice import OtherVoice
from diarize.segments import Segment, merge_close
from diarize.speakers import SpeakerTurns
from diarize.voiceprints import Voiceprint, VoiceprintStore, match_voiceprints

__all__ = [
    "PartyDiarization",
    "enrolled_prints",
    "map_speakers",
    "two_voices_reason",
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


def map_speakers(
    turns: SpeakerTurns,
    parties: list[dict],
    options: Options,
    voiceprint_threshold: float,
    prints: Mapping[str, Voiceprint],
    narrowband: bool = False,
    other_voice: OtherVoice | None = None,
    other_voice_s: float = 0.0,
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
        partyId -> that party's enrolled or learned voiceprint (from `enrolled_prints`).
    narrowband
        Compare with the prints' telephone-band embeddings (a telephone-band recording).
    other_voice
        Seconds of a speaker's speech that are not a print's voice (from
        `diarize.parties.one_voice.other_voice_check`); None: matches are not checked.
    other_voice_s
        That many seconds make a matched speaker two voices.
    """
    assigned: dict[str, SpeakerAssignment] = {}
    vectors = {party_id: p.for_recording(narrowband) for party_id, p in prints.items()}
    matches = match_voiceprints(turns.embeddings, vectors, voiceprint_threshold)
    merged: dict[str, str] = {}
    for label, party_id, score in matches:
        calls = prints[party_id].learned_calls
        if other_voice is not None and (other_s := other_voice(label, vectors[party_id])) >= (
            other_voice_s
        ):
            assigned[label] = SpeakerAssignment(label, None, "two-voices", score, calls)
            merged[label] = two_voices_reason(label, score, other_s)
            continue
        assigned[label] = SpeakerAssignment(label, party_id, "voiceprint", score, calls)
    if merged and options.unknown == "safe":
        return PartyDiarization(
            segments=[],
            assignments=[
                assigned.get(s) or SpeakerAssignment(s, None, "unidentified") for s in turns.labels
            ],
            withheld="; ".join(merged.values()),
        )
    taken = {a.party_id for a in assigned.values() if a.party_id is not None}
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
        if label in assigned and label not in merged:
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


def two_voices_reason(label: str, score: float, other_s: float) -> str:
    """One line: why a speaker that matched a voiceprint was mapped to no party."""
    return (
        f"no speakersTimeline: {label} matches a party's voiceprint (score {score:.2f}) but "
        f"{other_s:.0f} s of its speech is another voice (diarization merged two voices); "
        "pass --unknown add to add the voices as new parties"
    )


def enrolled_prints(parties: list[dict], options: Options) -> dict[str, Voiceprint]:
    """partyId -> voiceprint, for the parties with a print (enrolled or learned) of this
    embedding model in the store of ``options.voiceprints``."""
    store = VoiceprintStore(options.voiceprints)
    found = {party["partyId"]: store.find(party) for party in parties}
    return {key: p for key, p in found.items() if p is not None}
