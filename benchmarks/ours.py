"""Our systems as the benchmark drives them.

- ``ours``: `diarize.process_call` on the recording and its call JSON, as a user runs it: the
  stereo pass, the channel layout decision, diarization where needed, party mapping. Where a
  generated call comes with enrolment speech, each party is enrolled first (not timed), so
  mapping speakers to parties by voiceprint is measured too.
- ``ours-nogate``: ``ours`` with the mono speech gate off (`diarize.speech_gate`), to measure
  what the gate does on the same files in the same run.
- ``ours-capped``: ``ours`` with pyannote capped by the party count itself, no speaker dropped
  as background talk (`diarize.speakers.SpeakerLinker.merge_down`), the same kind of ablation.
- ``ours-stereo``: `diarize.stereo.analyze_stereo` alone on true stereo calls (speech per
  channel, leaks removed), channels tied to parties by the call's ``mediaChannelId``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from pathlib import Path

from benchmarks.data.items import BenchItem
from benchmarks.rttm import Turn
from benchmarks.systems import STEREO_CONDITIONS, Output, System, warmup_audio

__all__ = ["OursCall", "OursCapped", "OursNoGate", "OursStereo"]


def _is_channel_mapped(item: BenchItem) -> bool:
    """A true stereo call with one party per side: no diarization, no voiceprints needed."""
    return item.condition in STEREO_CONDITIONS and item.n_speakers <= 2


class OursCall(System):
    """``diarize.process_call`` (offline models, device as the run's, unknown voices added)."""

    name = "ours"
    description = "diarize.process_call: stereo pass, layout, offline diarization, party mapping"

    def accepts(self, item: BenchItem) -> bool:
        return True

    def load(self) -> None:
        """Warm up the paths the run's items take, and only those (memory is per file)."""
        import diarize
        from benchmarks.data.calls import call_json

        self.diarize = diarize
        self.store = Path(tempfile.mkdtemp(prefix="bench-voiceprints-"))
        parties = ["rep", "customer-1"]
        if not self.items or any(not _is_channel_mapped(item) for item in self.items):
            call = call_json("warmup", parties, "rep")
            diarize.process_call(str(warmup_audio()), call, options=self._options())
        if any(item.channels == 2 for item in self.items):
            call = call_json("warmup", parties, "rep", rep_channel=0)
            audio = warmup_audio(stereo=True)
            diarize.process_call(str(audio), call, options=self._options())

    def _options(self):
        # "add": the benchmark scores who spoke when, also where no voice is tied to a party
        # (the default would then withhold the timeline)
        return self.diarize.Options(device=self.device, voiceprints=self.store, unknown="add")

    def prepare(self, item: BenchItem) -> None:
        """A fresh voiceprint store (never the user's own), with every party that has
        enrolment speech enrolled in it (not for calls mapped by channel alone)."""
        from diarize.voiceprints import enroll, party_keys

        shutil.rmtree(self.store, ignore_errors=True)
        self.store = Path(tempfile.mkdtemp(prefix="bench-voiceprints-"))
        if _is_channel_mapped(item):
            return
        call = json.loads(Path(item.call).read_text(encoding="utf-8"))
        for party in call["parties"]:
            clip = item.enrolment.get(party["partyId"])
            keys = party_keys(party)
            if clip and keys:
                enroll(keys[0], [clip], self.store)

    def run(self, item: BenchItem) -> Output:
        call = json.loads(Path(item.call).read_text(encoding="utf-8"))
        result = self.diarize.process_call(item.audio, call, options=self._options())
        turns = [Turn(s.start_s, s.end_s, s.speaker) for s in result.segments]
        details = {
            "layout": result.layout.value,
            "precise": result.precise,
            "assignments": [a.to_dict() for a in result.assignments],
        }
        # party mapping is scored only where the call gives a way to know the parties: a
        # channel per side, or enrolment speech (else every voice is rightly a new party)
        mappable = _is_channel_mapped(item) or bool(item.enrolment)
        return Output(sorted(turns), labels_are_parties=mappable, details=details)


class OursNoGate(OursCall):
    """``ours`` without the Silero speech gate before diarization (an ablation)."""

    name = "ours-nogate"
    description = "ours with the mono speech gate off"

    def load(self) -> None:
        from diarize.diarizer import get_diarizer
        from diarize.options import Options

        get_diarizer(Options(device=self.device)).vad = None  # the one this process uses
        super().load()


class OursCapped(OursCall):
    """``ours`` with pyannote capped by the party count, no background talk dropped."""

    name = "ours-capped"
    description = "ours with pyannote capped by the party count (no background talk dropped)"

    def load(self) -> None:
        from diarize.diarizer import get_diarizer
        from diarize.options import Options

        diarizer = get_diarizer(Options(device=self.device))  # the one this process uses
        gate = dataclasses.replace(diarizer.config.speech_gate, background_db=0.0)
        diarizer.config = dataclasses.replace(diarizer.config, speech_gate=gate)
        super().load()


class OursStereo(System):
    """``diarize.stereo.analyze_stereo``: the stereo pass alone, channels mapped to parties."""

    name = "ours-stereo"
    description = "diarize.stereo.analyze_stereo: Silero VAD per channel with leak removal"

    def accepts(self, item: BenchItem) -> bool:
        return item.condition in STEREO_CONDITIONS and item.rep_channel is not None

    def load(self) -> None:
        from diarize.audio import open_audio
        from diarize.stereo import analyze_stereo, load_stereo_params
        from models.silero import load_silero_vad

        self.open_audio, self.analyze_stereo = open_audio, analyze_stereo
        self.params = load_stereo_params()[1]
        self.vad = load_silero_vad()

    def run(self, item: BenchItem) -> Output:
        analysis = self.analyze_stereo(self.open_audio(item.audio), self.params, self.vad)
        customers = [p for p in item.party_ids if p != item.rep_party_id]
        labels = {f"ch{item.rep_channel}": item.rep_party_id}
        if len(customers) == 1:
            labels[f"ch{1 - item.rep_channel}"] = customers[0]
        turns = [
            Turn(s.start_s, s.end_s, labels.get(s.speaker, s.speaker)) for s in analysis.segments
        ]
        details = {"layout": analysis.layout.value, "leaked_frames": list(analysis.leaked_frames)}
        return Output(sorted(turns), labels_are_parties=len(customers) == 1, details=details)
