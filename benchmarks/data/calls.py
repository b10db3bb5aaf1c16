"""Gong call metadata (the ``POST /v2/calls`` body) for benchmark recordings."""

from __future__ import annotations

__all__ = ["call_json"]

_PRIMARY_USER = "234599484848423"
_NAMES = ("Alex Morgan", "Jamie Chen", "Priya Natarajan", "Samuel Okafor", "Lena Fischer")


def call_json(
    item_id: str,
    party_ids: list[str],
    rep_party_id: str,
    rep_channel: int | None = None,
    duration_s: float | None = None,
    direction: str | None = None,
) -> dict:
    """The call body for one benchmark recording.

    Parameters
    ----------
    item_id
        Benchmark item id; becomes part of ``clientUniqueId`` and the title.
    party_ids
        Every party that speaks, the rep included; reference labels are these ids.
    rep_party_id
        The company's rep: the party standing for ``primaryUser``.
    rep_channel
        For a stereo recording, the rep's channel (set as ``mediaChannelId``).
    duration_s
        Recording length, sent as ``duration``.
    direction
        ``Inbound``/``Outbound``/``Conference``; by default Outbound for two parties and
        Conference for more.
    """
    parties = []
    for index, party_id in enumerate(party_ids):
        name = _NAMES[index % len(_NAMES)]
        email = name.lower().replace(" ", ".")
        party: dict = {"partyId": party_id, "name": name}
        if party_id == rep_party_id:
            party["userId"] = _PRIMARY_USER
            party["emailAddress"] = f"{email}@our-company.example"
            if rep_channel is not None:
                party["mediaChannelId"] = rep_channel
        else:
            party["emailAddress"] = f"{email}@customer.example"
        parties.append(party)
    body: dict = {
        "clientUniqueId": f"benchmark-{item_id}",
        "actualStart": "2026-01-01T10:00:00Z",
        "title": f"Benchmark call {item_id}",
        "direction": direction or ("Outbound" if len(party_ids) <= 2 else "Conference"),
        "primaryUser": _PRIMARY_USER,
        "parties": parties,
    }
    if duration_s is not None:
        body["duration"] = round(duration_s, 3)
    return body
