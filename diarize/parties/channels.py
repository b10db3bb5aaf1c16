"""Tying the channels of a dual-channel recording to the call's parties.

In a dual-channel recording the rep's party sits on the channel its ``mediaChannelId`` names
(or ``--rep-channel`` overrides) and the other channel belongs to the one remaining party.
"""

from __future__ import annotations

from dataclasses import dataclass

from diarize.assignment import SpeakerAssignment
from diarize.errors import PartyMappingError

__all__ = [
    "ChannelMapping",
    "describe_party",
    "find_rep_party",
    "map_channels",
    "new_party",
    "with_party_ids",
]

CHANNEL_NAMES = ("left", "right")


def with_party_ids(parties: list[dict]) -> list[dict]:
    """Copies of `parties` where each has a ``partyId``: existing ids are kept, the others get a
    fresh one (``"p1"``, ``"p2"``, ... skipping ids already taken)."""
    taken = {p["partyId"] for p in parties if p.get("partyId")}
    counter = 0
    result = []
    for party in parties:
        party = dict(party)
        if not party.get("partyId"):
            counter += 1
            while f"p{counter}" in taken:
                counter += 1
            party["partyId"] = f"p{counter}"
            taken.add(party["partyId"])
        result.append(party)
    return result


def new_party(parties: list[dict], number: int) -> dict:
    """A party for a voice that matches no party of the call: ``"Speaker N"`` with a fresh id."""
    taken = {p.get("partyId") for p in parties}
    suffix = number
    while f"speaker-{suffix}" in taken:
        suffix += 1
    return {"name": f"Speaker {number}", "partyId": f"speaker-{suffix}"}


def describe_party(party: dict) -> str:
    """A short human label: name, e-mail, phone or user id, with the party id."""
    label = (
        party.get("name")
        or party.get("emailAddress")
        or party.get("phoneNumber")
        or party.get("userId")
        or "party"
    )
    return f"{label} ({party.get('partyId')})"


def find_rep_party(parties: list[dict], primary_user: str | None) -> dict | None:
    """The rep's party: the one with ``mediaChannelId``, else the primary user's party."""
    with_channel = [p for p in parties if p.get("mediaChannelId") in (0, 1)]
    if with_channel:
        return with_channel[0]
    for party in parties:
        if primary_user and party.get("userId") == primary_user:
            return party
    return None


@dataclass(frozen=True)
class ChannelMapping:
    """Which party speaks on each channel.

    ``customer_parties`` holds every party left for the non-rep channel: one party maps
    directly; several (a conference bridge) mean that channel must be diarized.
    """

    rep_channel: int
    rep_party: dict
    customer_parties: list[dict]

    @property
    def customer_channel(self) -> int:
        return 1 - self.rep_channel

    def assignments(self) -> list[SpeakerAssignment]:
        """Channel assignments when each channel holds one party."""
        result = [SpeakerAssignment(f"ch{self.rep_channel}", self.rep_party["partyId"], "channel")]
        if len(self.customer_parties) == 1:
            party = self.customer_parties[0]
            result.append(
                SpeakerAssignment(f"ch{self.customer_channel}", party["partyId"], "channel")
            )
        return result


def map_channels(
    parties: list[dict], primary_user: str | None, rep_channel: int | None
) -> ChannelMapping:
    """Decide the rep's channel and party, and which parties are left for the other channel.

    Parameters
    ----------
    parties
        The call's parties, each with a ``partyId`` (see `with_party_ids`).
    primary_user
        The call's ``primaryUser``.
    rep_channel
        0 or 1 to override the parties' ``mediaChannelId``.

    Raises
    ------
    PartyMappingError
        When no channel is given for the rep, with what to add.
    """
    rep = find_rep_party(parties, primary_user)
    if rep is None:
        raise PartyMappingError(
            "cannot tell which party is the rep: set mediaChannelId on the rep's party "
            "or add a party whose userId equals primaryUser"
        )
    channel = rep_channel if rep_channel is not None else rep.get("mediaChannelId")
    if channel not in (0, 1):
        raise PartyMappingError(
            f"cannot tell which channel is the rep's ({describe_party(rep)}): set "
            "mediaChannelId (0 = left, 1 = right) on that party in the call JSON, pass "
            "--rep-channel left|right, or enroll the rep's voice with 'gong-diarize enroll'"
        )
    others = [p for p in parties if p is not rep]
    return ChannelMapping(channel, rep, others)
