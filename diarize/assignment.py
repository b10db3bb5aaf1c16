"""How a channel or an anonymous speaker was tied to a party, and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Rule", "SpeakerAssignment"]

Rule = Literal[
    "channel", "voiceprint", "last-remaining", "new-party", "dropped", "unidentified", "two-voices"
]


@dataclass(frozen=True)
class SpeakerAssignment:
    """One voice source (``"ch0"``, ``"ch1"`` or a diarization label) and the party it became.

    ``party_id`` is ``None`` when the speaker was dropped or left unidentified (no timeline),
    or matched a voiceprint but holds a second voice (``"two-voices"``); ``score`` is the
    voiceprint similarity for the ``"voiceprint"`` and ``"two-voices"`` rules and ``None``
    otherwise.
    """

    speaker: str
    party_id: str | None
    rule: Rule
    score: float | None = None
    learned_calls: int | None = None
    """For the ``"voiceprint"`` rule: how many calls the print was learned from (0: enrolled
    only)."""

    def to_dict(self) -> dict:
        data = {
            "speaker": self.speaker,
            "partyId": self.party_id,
            "rule": self.rule,
            "score": None if self.score is None else round(self.score, 3),
        }
        if self.learned_calls is not None:
            data["printLearnedFromCalls"] = self.learned_calls
        return data
