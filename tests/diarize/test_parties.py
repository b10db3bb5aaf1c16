import pytest

from diarize.errors import PartyMappingError
from diarize.parties import map_channels, new_party, with_party_ids

PARTIES = [
    {"userId": "u1", "name": "Rep", "mediaChannelId": 1},
    {"name": "Customer", "partyId": "p1"},
]


def test_party_ids_are_kept_and_filled_without_clashes():
    parties = with_party_ids(PARTIES)
    assert parties[1]["partyId"] == "p1"
    assert parties[0]["partyId"] == "p2"
    assert "partyId" not in PARTIES[0]  # the input is not modified


def test_media_channel_marks_the_rep_and_the_other_channel_gets_the_rest():
    mapping = map_channels(with_party_ids(PARTIES), "u1", None)
    assert mapping.rep_channel == 1 and mapping.customer_channel == 0
    assert [a.party_id for a in mapping.assignments()] == ["p2", "p1"]


def test_rep_channel_override_wins():
    mapping = map_channels(with_party_ids(PARTIES), "u1", 0)
    assert mapping.rep_channel == 0


def test_primary_user_is_the_rep_when_no_channel_is_marked_but_channel_is_required():
    parties = with_party_ids([{"userId": "u1"}, {"name": "Customer"}])
    assert map_channels(parties, "u1", 1).rep_party["userId"] == "u1"
    with pytest.raises(PartyMappingError, match="mediaChannelId.*--rep-channel"):
        map_channels(parties, "u1", None)


def test_new_party_has_a_fresh_id():
    party = new_party([{"partyId": "speaker-3"}], 3)
    assert party == {"name": "Speaker 3", "partyId": "speaker-4"}
