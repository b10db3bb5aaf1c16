"""Who is who: the call's parties tied to channels and to diarized speakers.

- `diarize.parties.channels`: in a dual-channel recording, the rep's channel (``mediaChannelId``
  or ``--rep-channel``) to the rep's party and the other channel to the other party(ies);
- `diarize.parties.speakers`: the anonymous speakers of a diarized recording to parties by
  voiceprint, last remaining party, or not at all.
"""

from diarize.parties.channels import (
    ChannelMapping,
    describe_party,
    find_rep_party,
    map_channels,
    new_party,
    with_party_ids,
)
from diarize.parties.speakers import (
    PartyDiarization,
    enrolled_prints,
    map_speakers,
    unidentified_reason,
)

__all__ = [
    "ChannelMapping",
    "PartyDiarization",
    "describe_party",
    "enrolled_prints",
    "find_rep_party",
    "map_channels",
    "map_speakers",
    "new_party",
    "unidentified_reason",
    "with_party_ids",
]
