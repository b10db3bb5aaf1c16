"""Data builders: deterministic, and the reference matches the audio they write."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmarks.data import sources
from benchmarks.data.conversation import Party, generate_conversation
from benchmarks.data.items import ItemSpec, build_item, load_reference
from benchmarks.data.suites import CALLS, suite_specs
from benchmarks.data.voices import real_voice, speech_spans, split_long, tts_voice

REAL2 = CALLS["real2"]  # the two speakers of pyannote.audio's sample: always available
HAVE_TTS = shutil.which("espeak-ng") is not None and shutil.which("flite") is not None


def _outside(reference, n_samples: int, rate: int, margin_s: float = 0.002) -> np.ndarray:
    """A mask of samples farther than ``margin_s`` from every reference segment."""
    mask = np.ones(n_samples, dtype=bool)
    for turn in reference:
        lo = max(0, int((turn.start_s - margin_s) * rate))
        mask[lo : int((turn.end_s + margin_s) * rate) + 1] = False
    return mask


def test_same_spec_builds_the_same_bytes(tmp_path):
    spec = ItemSpec("t-clean", "clean16k", REAL2, 20.0)
    first = build_item(spec, tmp_path / "a")
    second = build_item(spec, tmp_path / "b")
    assert Path(first.audio).read_bytes() == Path(second.audio).read_bytes()
    assert Path(first.rttm).read_text() == Path(second.rttm).read_text()
    other = build_item(ItemSpec("t-clean", "clean16k", REAL2, 20.0, seed=1), tmp_path / "c")
    assert Path(other.rttm).read_text() != Path(first.rttm).read_text()


def test_cache_is_reused_and_invalidated_by_the_spec(tmp_path):
    spec = ItemSpec("t-cache", "clean16k", REAL2, 15.0)
    item = build_item(spec, tmp_path)
    stamp = (tmp_path / "items" / "t-cache" / "audio.wav").stat().st_mtime_ns
    assert build_item(spec, tmp_path) == item
    assert (tmp_path / "items" / "t-cache" / "audio.wav").stat().st_mtime_ns == stamp
    longer = build_item(ItemSpec("t-cache", "clean16k", REAL2, 25.0), tmp_path)
    assert longer.duration_s > item.duration_s


def test_clean_reference_is_exactly_where_the_speech_is(tmp_path):
    item = build_item(ItemSpec("t-exact", "clean16k", REAL2, 40.0), tmp_path)
    audio, rate = sf.read(item.audio, dtype="float32")
    reference = load_reference(item)
    assert rate == 16000 and item.duration_s == pytest.approx(len(audio) / rate, abs=1e-3)
    # nothing but silence outside the reference
    assert np.all(audio[_outside(reference, len(audio), rate)] == 0.0)
    # and sound right at the start and at the end of every segment (first/last 30 ms)
    for turn in reference:
        head = audio[int(turn.start_s * rate) : int((turn.start_s + 0.03) * rate)]
        tail = audio[int((turn.end_s - 0.03) * rate) : int(turn.end_s * rate)]
        assert np.abs(head).max() > 0 and np.abs(tail).max() > 0
    assert {t.speaker for t in reference} == {"rep", "customer-1"}


def test_generated_call_has_overlaps_pauses_and_backchannels(tmp_path):
    pool_a = real_voice("a", [sources.pyannote_sample()], "speaker90")
    pool_b = real_voice("b", [sources.pyannote_sample()], "speaker91")
    parties = [Party("rep", True, pool_a), Party("customer-1", False, pool_b)]
    conversation = generate_conversation(parties, 300.0, seed=7)
    reference = sorted(conversation.reference)
    assert reference[0].speaker == "rep"  # the rep opens the call
    overlaps = sum(
        1
        for a, b in zip(reference, reference[1:], strict=False)
        if b.start_s < a.end_s and a.speaker != b.speaker
    )
    gaps = [b.start_s - a.end_s for a, b in zip(reference, reference[1:], strict=False)]
    assert overlaps >= 3
    assert any(g > 1.0 for g in gaps) and any(0.1 < g < 1.0 for g in gaps)
    assert any(t.end_s - t.start_s < 1.2 for t in reference)  # short backchannels
    with pytest.raises(ValueError, match="2-4 parties"):
        generate_conversation(parties[:1], 10.0, seed=0)


def test_telephony_is_8k_narrowband_and_noisy(tmp_path):
    item = build_item(ItemSpec("t-phone", "telephony", REAL2, 20.0), tmp_path)
    info = sf.info(item.audio)
    assert (info.samplerate, info.channels) == (8000, 1)
    assert info.subtype == {"ulaw": "ULAW", "gsm": "GSM610"}[item.params["codec"]]
    assert 10.0 <= item.params["snr_db"] <= 20.0
    audio, rate = sf.read(item.audio, dtype="float32")
    reference = load_reference(item)
    noise = audio[_outside(reference, len(audio), rate, margin_s=0.05)]
    assert noise.std() > 1e-3  # noise everywhere, not digital silence


def test_telephony_codec_can_be_chosen(tmp_path):
    item = build_item(ItemSpec("t-gsm", "telephony", REAL2, 10.0, codec="gsm"), tmp_path)
    assert sf.info(item.audio).subtype == "GSM610" and item.params["codec"] == "gsm"
    with pytest.raises(ValueError, match="unknown telephony codec"):
        build_item(ItemSpec("t-bad", "telephony", REAL2, 10.0, codec="opus"), tmp_path)


def test_stereo_puts_the_rep_on_its_channel_with_delayed_bleed(tmp_path):
    item = build_item(ItemSpec("t-stereo", "stereo", REAL2, 30.0), tmp_path)
    audio, rate = sf.read(item.audio, dtype="float32", always_2d=True)
    rep = item.rep_channel
    assert audio.shape[1] == 2 and rep in (0, 1)
    assert 10.0 <= item.params["bleed_db"] <= 30.0 and 2.0 <= item.params["delay_ms"] <= 25.0
    call = json.loads(Path(item.call).read_text())
    marked = [p for p in call["parties"] if "mediaChannelId" in p]
    assert [(p["partyId"], p["mediaChannelId"]) for p in marked] == [("rep", rep)]
    rep_only = [t for t in load_reference(item) if t.speaker == "rep"]
    level = {
        ch: np.mean(
            [np.mean(audio[int(t.start_s * rate) : int(t.end_s * rate), ch] ** 2) for t in rep_only]
        )
        for ch in (0, 1)
    }
    bleed_db = 10 * np.log10(level[rep] / level[1 - rep])
    assert bleed_db > 8.0  # the rep is loud on its channel, faint (bleed) on the other


def test_duplicated_mono_channels_are_the_same_signal(tmp_path):
    item = build_item(ItemSpec("t-dup", "dupmono", REAL2, 15.0), tmp_path)
    audio, _ = sf.read(item.audio, dtype="float32", always_2d=True)
    assert np.corrcoef(audio[:, 0], audio[:, 1])[0, 1] > 0.999
    assert item.rep_channel is None


def test_call_json_passes_the_project_contract(tmp_path):
    from diarize.call import validate_call

    for condition in ("clean16k", "stereo"):
        item = build_item(ItemSpec(f"t-call-{condition}", condition, REAL2, 10.0), tmp_path)
        call = json.loads(Path(item.call).read_text())
        validate_call(call)
        assert call["actualStart"] == "2026-01-01T10:00:00Z"
        assert {p["partyId"] for p in call["parties"]} == set(item.party_ids)


def test_real_recordings_are_relabelled_with_ascii_party_ids(tmp_path):
    item = build_item(ItemSpec("sample", "real-telephone", real_uri="sample"), tmp_path)
    assert item.party_ids == ["speaker90", "speaker91"] and item.channels == 1
    assert sources.party_id_for("MÉO069") == "MEO069"


def test_evaldata_ignores_the_file_list_and_reads_accented_labels():
    recordings = sources.evaldata_recordings()
    if not recordings:
        pytest.skip("../shared/evaldata is absent")
    uris = {r.uri for r in recordings}
    assert "trn00" in uris and len(uris) == 12
    trn00 = next(r for r in recordings if r.uri == "trn00")
    assert "MÉO069" in {t.speaker for t in trn00.turns} and trn00.uem == (0.0, 30.0)


def test_missing_evaldata_skips_only_what_needs_it(tmp_path):
    assert sources.evaldata_recordings(tmp_path / "nowhere") == []
    specs = suite_specs("quick")
    assert specs[0].real_uri == "sample"


def test_speech_spans_of_tone_bursts():
    rate = 16000
    audio = np.zeros(rate * 3, dtype=np.float32)
    audio[int(0.5 * rate) : int(1.0 * rate)] = 0.5
    audio[int(1.1 * rate) : int(1.5 * rate)] = 0.5  # 0.1 s gap: bridged
    audio[int(2.0 * rate) : int(2.5 * rate)] = 0.5
    assert speech_spans(audio) == [(0.5, 1.5), (2.0, 2.5)]


@pytest.mark.skipif(not HAVE_TTS, reason="espeak-ng/flite not installed")
def test_tts_voices_are_trimmed_to_speech_and_cached(tmp_path):
    pool = tts_voice("flite-slt", tmp_path)
    assert len(pool.utterances) >= 30 and pool.backchannels and pool.enrolment
    first = pool.utterances[0]
    assert first.spans[0][0] == 0.0 and first.spans[-1][1] == pytest.approx(first.duration_s)
    again = tts_voice("flite-slt", tmp_path)
    assert np.array_equal(again.utterances[3].audio, pool.utterances[3].audio)
    assert again.utterances[3].spans == pool.utterances[3].spans


def test_missing_tts_program_skips_the_item(tmp_path, monkeypatch):
    from benchmarks.data import voices
    from benchmarks.data.items import Skipped

    monkeypatch.setattr(voices.shutil, "which", lambda name: None)
    with pytest.raises(Skipped, match="espeak-ng/flite"):
        build_item(ItemSpec("t-tts", "clean16k", CALLS["tts2"], 10.0), tmp_path)


def test_long_real_turns_are_cut_in_pauses_into_pieces_of_at_most_8_s():
    rng = np.random.default_rng(0)
    clip = (0.1 * rng.standard_normal(20 * 16000)).astype(np.float32)
    clip[int(6.5 * 16000) : int(6.6 * 16000)] = 0.0  # a pause 1.4-1.5 s before the limit
    pieces = split_long(clip, 8.0)
    assert np.array_equal(np.concatenate(pieces), clip)
    assert all(len(p) <= 8 * 16000 for p in pieces) and len(pieces) == 3
    assert 6.5 * 16000 <= len(pieces[0]) <= 6.6 * 16000
    assert [len(p) for p in split_long(clip[:16000], 8.0)] == [16000]


def test_noise_items_add_the_named_noise_at_its_snr_and_keep_the_reference(tmp_path):
    from benchmarks.data.conditions import NOISES, noise_condition, parse_noise, write_noisy

    assert parse_noise(noise_condition("pink", 14.0)) == ("pink", 14.0)
    assert parse_noise("noise-clean") == (None, None)
    clean = build_item(
        ItemSpec("sample-16k@noise-clean", "noise-clean", real_uri="sample"), tmp_path
    )
    noisy = build_item(
        ItemSpec("sample-16k@noise-white-14dB", "noise-white-14dB", real_uri="sample"), tmp_path
    )
    again = build_item(
        ItemSpec("sample-16k@noise-white-14dB", "noise-white-14dB", real_uri="sample"),
        tmp_path / "again",
    )
    assert Path(noisy.audio).read_bytes() == Path(again.audio).read_bytes()
    assert load_reference(noisy) == load_reference(clean)
    assert noisy.params["noise"] == "white" and noisy.params["snr_db"] == 14.0
    # the SNR is speech power over the reference's spans against the added noise
    rng = np.random.default_rng(0)
    speech = np.sin(np.arange(16000 * 4) / 16000 * 2 * np.pi * 440).astype(np.float32)
    for kind in (k for k in NOISES if k != "babble"):
        params = write_noisy(
            speech, [(0.0, 4.0)], tmp_path / f"{kind}.wav", rng,
            codec=None, band_limit=False, kind=kind, snr_db=10.0,
        )  # fmt: skip
        mixed, _ = sf.read(tmp_path / f"{kind}.wav", dtype="float64")
        scale = np.dot(mixed, speech) / np.dot(speech, speech)
        noise = mixed - scale * speech
        snr = 10 * np.log10(np.mean((scale * speech) ** 2) / np.mean(noise**2))
        assert params["noise"] == kind and abs(snr - 10.0) < 0.5, (kind, snr)
