"""One call from recording to enriched metadata: the library function behind the CLI.

    audio ──► channel layout + speech per channel (stereo pass) ──► segments
          └─► diarization (mono, really-mono stereo, conference-bridge channel) ──► segments
    segments ──► parties (channel, voiceprint, last remaining, new) ──► speakersTimeline

`process_call` returns everything it found; `enrich_call` returns just the enriched call.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from diarize.assignment import SpeakerAssignment
from diarize.audio import AudioSource, open_audio
from diarize.call import validate_call
from diarize.channels import ChannelLayout
from diarize.errors import ChannelLayoutError, PartyMappingError
from diarize.options import Options
from diarize.parties import (
    ChannelMapping,
    find_rep_party,
    map_channels,
    new_party,
    with_party_ids,
)
from diarize.segments import Segment, to_rttm
from diarize.stereo import StereoAnalysis, analyze_stereo, channel_label, load_stereo_params
from diarize.timeline import build_timeline

__all__ = ["CallResult", "enrich_call", "process_call"]

AudioInput = str | os.PathLike | np.ndarray


@dataclass
class CallResult:
    """Everything `process_call` found for one call."""

    call: dict
    """The call JSON with ``partyId``s and ``speakersTimeline`` (or ``mediaChannelId``)."""
    layout: ChannelLayout
    segments: list[Segment]  # speaker: partyId
    assignments: list[SpeakerAssignment]
    precise: bool
    duration_s: float
    mode: str = "timeline"
    details: dict[str, Any] = field(default_factory=dict)
    timeline_withheld: str | None = None
    """Why the call got no ``speakersTimeline`` although one was asked for (``unknown="safe"``
    and no voice could be tied to a party), else None."""
    learning: Any = None
    """What the call taught the rep's voiceprint (`diarize.learning.LearningOutcome`), or
    None when learning was not asked for or the call is not dual-channel."""

    def to_rttm(self, uri: str | None = None) -> str:
        """The timeline as RTTM, one line per segment, speakers named by ``partyId``."""
        return to_rttm(self.segments, uri or str(self.call.get("clientUniqueId", "call")))

    def summary(self) -> dict[str, Any]:
        """A JSON-ready account of the run: layout, mapping and timeline size."""
        return {
            "layout": self.layout.value,
            "mode": self.mode,
            "durationSeconds": round(self.duration_s, 3),
            "segments": len(self.segments),
            "precise": self.precise,
            "assignments": [a.to_dict() for a in self.assignments],
            **({"timelineWithheld": self.timeline_withheld} if self.timeline_withheld else {}),
            **self.details,
        }


def process_call(
    audio: AudioInput,
    call: dict,
    *,
    sample_rate: int | None = None,
    options: Options | None = None,
) -> CallResult:
    """Work out who spoke when in `audio` and tie it to the parties of `call`.

    Parameters
    ----------
    audio
        A recording's path, or samples shaped (n,) or (channels, n) with `sample_rate`.
    call
        The JSON body of Gong's ``POST /v2/calls``; validated before any audio is read.
    sample_rate
        Sample rate of an array `audio`.
    options
        What to emit and how to map voices (see `Options`).

    Returns
    -------
    CallResult
        The enriched call and how it was obtained. The input `call` is not modified.

    Raises
    ------
    CallValidationError, AudioLoadError, ChannelLayoutError, PartyMappingError, ModelLoadError
    """
    options = options or Options()
    if options.rep_channel not in (None, 0, 1):
        raise ValueError(f"rep_channel must be 0, 1 or None, got {options.rep_channel!r}")
    validate_call(call, require_timeline_party_ids=False)
    source = open_audio(audio, sample_rate)
    call = copy.deepcopy(call)
    call["parties"] = with_party_ids(call["parties"])
    analysis = analyze_stereo(source, hook=options.hook) if source.info.num_channels == 2 else None
    layout = analysis.layout if analysis else ChannelLayout.MONO
    if options.mode == "channel":
        return _channel_mode(source, call, analysis, options)
    if layout is ChannelLayout.DUAL_CHANNEL:
        result = _dual_channel(source, call, analysis, options)
    else:
        channel = analysis.silent_channel if analysis else None
        result = _diarized(source, call, layout, None if channel is None else 1 - channel, options)
    if analysis is not None:
        result.details["channelEvidence"] = analysis.evidence.to_dict()
    return result


def enrich_call(
    audio: AudioInput,
    call: dict,
    *,
    sample_rate: int | None = None,
    options: Options | None = None,
) -> dict:
    """The call JSON enriched with ``speakersTimeline`` (see `process_call`)."""
    return process_call(audio, call, sample_rate=sample_rate, options=options).call


def _finish(
    call: dict,
    layout: ChannelLayout,
    segments: list[Segment],
    assignments: list[SpeakerAssignment],
    precise: bool,
    duration_s: float,
    options: Options,
    withheld: str | None = None,
) -> CallResult:
    """Write the timeline into the call (none when `withheld` says why not); a timeline
    supersedes ``mediaChannelId``."""
    segments = sorted(s for s in segments if s.end_s > s.start_s)
    for party in call["parties"]:
        party.pop("mediaChannelId", None)
    if withheld is None:
        call["speakersTimeline"] = build_timeline(segments, duration_s, precise, options.exclusive)
    else:
        call.pop("speakersTimeline", None)
    return CallResult(
        call, layout, segments, assignments, precise, duration_s, timeline_withheld=withheld
    )


def _dual_channel(
    source: AudioSource, call: dict, analysis: StereoAnalysis, options: Options
) -> CallResult:
    """One side per channel: the rep's channel to the rep, the other to the other party."""
    mapping = _channel_mapping(source, call, options)
    # learn only from a channel the call or the user named, never one found by voice
    named = options.rep_channel is not None or mapping.rep_party.get("mediaChannelId") in (0, 1)
    _, params = load_stereo_params()
    by_channel = {
        ch: [s for s in analysis.segments if s.speaker == channel_label(ch)] for ch in (0, 1)
    }
    rep_id = mapping.rep_party["partyId"]
    segments = [Segment(s.start_s, s.end_s, rep_id) for s in by_channel[mapping.rep_channel]]
    assignments = [SpeakerAssignment(channel_label(mapping.rep_channel), rep_id, "channel")]
    customer_segments = by_channel[mapping.customer_channel]
    customers = mapping.customer_parties
    precise = params.precise
    if len(customers) == 1 or (not customers and customer_segments):
        party = customers[0] if customers else _add_party(call, options)
        if party is not None:
            segments += [Segment(s.start_s, s.end_s, party["partyId"]) for s in customer_segments]
            assignments.append(
                SpeakerAssignment(
                    channel_label(mapping.customer_channel),
                    party["partyId"],
                    "channel" if customers else "new-party",
                )
            )
    elif len(customers) > 1:
        # the bridge side's own speech only: the rep's voice leaking into it is no new speaker
        speech = [(s.start_s, s.end_s) for s in customer_segments]
        # the rep is identified by channel, so unidentified bridge voices are added ("safe")
        bridge_options = replace(options, unknown="add") if options.unknown == "safe" else options
        bridge = _diarize_parties(
            source, call, customers, bridge_options, mapping.customer_channel, speech=speech
        )
        segments += bridge.segments
        assignments += bridge.assignments
        precise = precise and bridge.precise
    result = _finish(
        call,
        ChannelLayout.DUAL_CHANNEL,
        segments,
        assignments,
        precise,
        analysis.duration_s,
        options,
    )
    result.details["repChannel"] = mapping.rep_channel
    if named:
        _learn(source, call, mapping, by_channel[mapping.rep_channel], options, result)
    return result


def _learn(
    source: AudioSource,
    call: dict,
    mapping: ChannelMapping,
    rep_speech: list[Segment],
    options: Options,
    result: CallResult,
) -> None:
    """With ``learn_voiceprints``, teach the rep's print from the rep's channel."""
    if not options.learn_voiceprints:
        return
    from diarize.learning import learn_rep_voice  # loads torch: only when learning

    call_id = call.get("clientUniqueId")
    outcome = learn_rep_voice(
        source,
        mapping.rep_party,
        mapping.rep_channel,
        rep_speech,
        options,
        call_id=str(call_id) if call_id else None,
    )
    result.learning = outcome
    result.details["voiceprintLearning"] = outcome.to_dict()


def _add_party(call: dict, options: Options) -> dict | None:
    """A new party for speech that belongs to no listed party, unless unknown voices are dropped."""
    if options.unknown == "drop":
        return None
    party = new_party(call["parties"], len(call["parties"]) + 1)
    call["parties"].append(party)
    return party


def _channel_mapping(source: AudioSource, call: dict, options: Options) -> ChannelMapping:
    """The rep's channel from the options or the call, else from the rep's voiceprint."""
    try:
        return map_channels(call["parties"], call.get("primaryUser"), options.rep_channel)
    except PartyMappingError:
        found = _find_rep_channel_by_voice(source, call, options)
        if found is None:
            raise
        return map_channels(call["parties"], call.get("primaryUser"), found)


def _find_rep_channel_by_voice(source: AudioSource, call: dict, options: Options) -> int | None:
    from diarize.diarization import find_rep_channel  # loads torch: only when needed

    rep = find_rep_party(call["parties"], call.get("primaryUser"))
    if rep is None:
        return None
    found = find_rep_channel(source, rep, options)
    return None if found is None else found[0]


def _diarized(
    source: AudioSource,
    call: dict,
    layout: ChannelLayout,
    channel: int | None,
    options: Options,
) -> CallResult:
    """Mono, duplicated mono, or one silent channel: speakers told apart by voice."""
    found = _diarize_parties(source, call, call["parties"], options, channel)
    result = _finish(
        call,
        layout,
        found.segments,
        found.assignments,
        found.precise,
        source.info.duration_s,
        options,
        found.withheld,
    )
    if channel is not None:
        result.details["speechChannel"] = channel
    return result


def _diarize_parties(
    source: AudioSource,
    call: dict,
    parties: list[dict],
    options: Options,
    channel: int | None,
    speech: list[tuple[float, float]] | None = None,
):
    """Run speaker diarization and add the parties it created to the call."""
    from diarize.diarization import diarize_parties  # loads torch: only when needed

    found = diarize_parties(source, parties, options, channel=channel, speech=speech)
    _add_parties_without_clashes(call, found)
    return found


def _add_parties_without_clashes(call: dict, found: Any) -> None:
    """Append the parties diarization created; one whose id or name is already taken in the
    call (diarization saw only some parties, in the hybrid case) is renumbered."""
    renamed: dict[str, str] = {}
    for party in found.added_parties:
        taken_ids = {p.get("partyId") for p in call["parties"]}
        taken_names = {p.get("name") for p in call["parties"]}
        if party["partyId"] in taken_ids or party.get("name") in taken_names:
            fresh = new_party(call["parties"], len(call["parties"]) + 1)
            while fresh["name"] in taken_names:
                fresh = new_party(call["parties"] + [fresh], int(fresh["name"].split()[-1]) + 1)
            renamed[party["partyId"]] = fresh["partyId"]
            party = {**party, **fresh}
        call["parties"].append(party)
    if renamed:
        found.segments = [
            Segment(s.start_s, s.end_s, renamed.get(s.speaker, s.speaker)) for s in found.segments
        ]
        found.assignments = [
            replace(a, party_id=renamed[a.party_id]) if a.party_id in renamed else a
            for a in found.assignments
        ]


def _channel_mode(
    source: AudioSource,
    call: dict,
    analysis: StereoAnalysis | None,
    options: Options,
) -> CallResult:
    """Only mark the rep's channel with ``mediaChannelId``; no timeline."""
    layout = analysis.layout if analysis else ChannelLayout.MONO
    duration_s = source.info.duration_s
    if analysis is None or layout is not ChannelLayout.DUAL_CHANNEL:
        raise ChannelLayoutError(
            f"--mode channel needs a dual-channel stereo recording, but this one is "
            f"{layout.value}; use --mode timeline to diarize it"
        )
    mapping = map_channels(call["parties"], call.get("primaryUser"), options.rep_channel)
    for party in call["parties"]:
        party.pop("mediaChannelId", None)
    mapping.rep_party["mediaChannelId"] = mapping.rep_channel
    call.pop("speakersTimeline", None)
    assignments = [
        SpeakerAssignment(
            channel_label(mapping.rep_channel), mapping.rep_party["partyId"], "channel"
        )
    ]
    result = CallResult(call, layout, [], assignments, False, duration_s, mode="channel")
    result.details["repChannel"] = mapping.rep_channel
    rep_label = channel_label(mapping.rep_channel)
    rep_speech = [s for s in analysis.segments if s.speaker == rep_label]
    _learn(source, call, mapping, rep_speech, options, result)
    return result
