"""Generated calls: turn-taking between 2-4 parties with pauses, overlaps and backchannels.

The generator places utterances of each party's voice on that party's own track, at whole
milliseconds, and writes down every span of speech it places: the reference is exact by
construction. Rendering the tracks into files (mono, telephony, stereo) is `conditions`' job.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.data.voices import SAMPLE_RATE, Utterance, VoicePool
from benchmarks.rttm import Turn, merge_turns

__all__ = ["Conversation", "Party", "TurnTaking", "generate_conversation"]


@dataclass(frozen=True)
class Party:
    """One participant: its Gong ``party_id``, whether it is the rep, and its voice."""

    party_id: str
    is_rep: bool
    voice: VoicePool


@dataclass(frozen=True)
class TurnTaking:
    """How the conversation flows; probabilities are per turn."""

    overlap_p: float = 0.2
    long_pause_p: float = 0.15
    backchannel_p: float = 0.45
    reply_p: float = 0.65  # with 3+ parties: the one spoken to answers
    pause_s: tuple[float, float] = (0.15, 0.9)
    long_pause_s: tuple[float, float] = (1.0, 3.0)
    overlap_s: tuple[float, float] = (0.15, 0.8)
    intra_turn_pause_s: tuple[float, float] = (0.35, 0.8)
    party_gain_db: tuple[float, float] = (-4.0, 4.0)


@dataclass
class Conversation:
    """The generated call: one 16 kHz float32 track per party and the exact reference."""

    parties: list[Party]
    tracks: dict[str, np.ndarray]
    reference: list[Turn]
    duration_s: float

    @property
    def sample_rate(self) -> int:
        """The tracks' rate (16 kHz)."""
        return SAMPLE_RATE

    def mix(self) -> np.ndarray:
        """All parties summed into one mono track."""
        out = np.zeros(int(round(self.duration_s * SAMPLE_RATE)), dtype=np.float32)
        for track in self.tracks.values():
            out += track[: len(out)]
        return out


class _Builder:
    def __init__(self, parties: list[Party], duration_s: float, rng: np.random.Generator):
        capacity = int((duration_s + 60.0) * SAMPLE_RATE)
        self.parties = parties
        self.rng = rng
        self.tracks = {p.party_id: np.zeros(capacity, dtype=np.float32) for p in parties}
        self.busy_until_s = {p.party_id: 0.0 for p in parties}
        self.spans: list[Turn] = []
        self.last_pick: dict[str, int] = {}

    def pick(self, party: Party, pool: list[Utterance]) -> Utterance:
        """A random utterance, never the same one twice in a row for a party."""
        index = int(self.rng.integers(len(pool)))
        if len(pool) > 1 and index == self.last_pick.get(party.party_id):
            index = (index + 1) % len(pool)
        self.last_pick[party.party_id] = index
        return pool[index]

    def place(self, party: Party, utterance: Utterance, start_s: float, gain: float) -> float:
        """Add ``utterance`` at ``start_s`` (rounded to the millisecond); return its end."""
        start_ms = int(round(start_s * 1000))
        first = start_ms * SAMPLE_RATE // 1000
        track = self.tracks[party.party_id]
        if first + len(utterance.audio) > len(track):
            grown = np.zeros(first + len(utterance.audio) + SAMPLE_RATE, dtype=np.float32)
            grown[: len(track)] = track
            self.tracks[party.party_id] = track = grown
        track[first : first + len(utterance.audio)] += gain * utterance.audio
        for span_start_s, span_end_s in utterance.spans:
            self.spans.append(
                Turn(
                    round(start_ms / 1000 + span_start_s, 3),
                    round(start_ms / 1000 + span_end_s, 3),
                    party.party_id,
                )
            )
        end_s = start_ms / 1000 + utterance.duration_s
        self.busy_until_s[party.party_id] = max(self.busy_until_s[party.party_id], end_s)
        return end_s


def generate_conversation(
    parties: list[Party],
    duration_s: float,
    seed: int,
    style: TurnTaking | None = None,
) -> Conversation:
    """Generate a call of about ``duration_s`` seconds between ``parties``.

    Parameters
    ----------
    parties
        2-4 parties; the rep (``is_rep``) opens the call.
    duration_s
        Target length; the last turn is finished, then 0.5-1.5 s of silence follow.
    seed
        Same seed, same parties: same call, sample for sample.
    style
        Turn-taking probabilities and ranges.

    Returns
    -------
    Conversation
        Per-party tracks and the reference segments (labels are party ids).
    """
    if not 2 <= len(parties) <= 4:
        raise ValueError(f"a generated call needs 2-4 parties, got {len(parties)}")
    style = style or TurnTaking()
    rng = np.random.default_rng(seed)
    builder = _Builder(parties, duration_s, rng)
    gains = {p.party_id: 10 ** (rng.uniform(*style.party_gain_db) / 20) for p in parties}
    speaker = next((p for p in parties if p.is_rep), parties[0])
    previous: Party | None = None
    t_s = float(rng.uniform(0.3, 1.5))
    while t_s < duration_s:
        turn_start_s = t_s
        last_duration_s = 0.0
        for _ in range(int(rng.choice([1, 1, 2, 2, 3]))):
            utterance = builder.pick(speaker, speaker.voice.utterances)
            t_s = builder.place(speaker, utterance, t_s, gains[speaker.party_id])
            last_duration_s = utterance.duration_s
            turn_end_s = t_s
            t_s += float(rng.uniform(*style.intra_turn_pause_s))
        _maybe_backchannel(builder, speaker, turn_start_s, turn_end_s, gains, style)
        following = _next_speaker(parties, speaker, previous, rng, style)
        t_s = _next_start(builder, following, turn_end_s, last_duration_s, rng, style)
        previous, speaker = speaker, following
    end_s = max(builder.busy_until_s.values()) + float(rng.uniform(0.5, 1.5))
    n_samples = int(round(end_s * 1000)) * SAMPLE_RATE // 1000
    tracks = {pid: track[:n_samples] for pid, track in builder.tracks.items()}
    reference = merge_turns(builder.spans)
    return Conversation(parties, tracks, reference, n_samples / SAMPLE_RATE)


def _maybe_backchannel(builder, speaker, turn_start_s, turn_end_s, gains, style) -> None:
    """A listener says "yeah" in the middle of a long enough turn."""
    rng = builder.rng
    listeners = [p for p in builder.parties if p is not speaker and p.voice.backchannels]
    if turn_end_s - turn_start_s < 2.5 or not listeners or rng.random() >= style.backchannel_p:
        return
    listener = listeners[int(rng.integers(len(listeners)))]
    backchannel = builder.pick(listener, listener.voice.backchannels)
    earliest_s = max(turn_start_s + 1.0, builder.busy_until_s[listener.party_id] + 0.3)
    latest_s = turn_end_s - backchannel.duration_s - 0.3
    if latest_s > earliest_s:
        builder.place(
            listener,
            backchannel,
            float(rng.uniform(earliest_s, latest_s)),
            gains[listener.party_id],
        )


def _next_speaker(parties, speaker, previous, rng, style) -> Party:
    others = [p for p in parties if p is not speaker]
    if previous is not None and previous is not speaker and rng.random() < style.reply_p:
        return previous
    return others[int(rng.integers(len(others)))]


def _next_start(builder, following, turn_end_s, last_duration_s, rng, style) -> float:
    """Start of the next turn: a pause, a long pause, or an overlap with the turn's end."""
    draw = rng.random()
    if draw < style.overlap_p:
        overlap_s = min(float(rng.uniform(*style.overlap_s)), last_duration_s / 2)
        start_s = turn_end_s - overlap_s
    elif draw < style.overlap_p + style.long_pause_p:
        start_s = turn_end_s + float(rng.uniform(*style.long_pause_s))
    else:
        start_s = turn_end_s + float(rng.uniform(*style.pause_s))
    return max(start_s, builder.busy_until_s[following.party_id] + 0.2)
