"""diarize.audio: every container and codec round-trips, blocks stream without seams, resampling
is right, containers are recognised by content, and every bad file gives one AudioLoadError."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import av
import av.error
import numpy as np
import pytest
import soundfile as sf
import soxr
from scipy.signal import chirp, correlate

from diarize._decoders import load_errors
from diarize.audio import AudioInfo, AudioSource, open_audio, write_audio
from diarize.errors import AudioLoadError

_PYANNOTE_AUDIO = importlib.util.find_spec("pyannote.audio")
assert _PYANNOTE_AUDIO is not None and _PYANNOTE_AUDIO.submodule_search_locations
SAMPLE_WAV = Path(_PYANNOTE_AUDIO.submodule_search_locations[0]) / "sample" / "sample.wav"

RATES = [8000, 16000, 44100, 48000]
LOSSLESS = [  # container, codec, what info.codec says, largest sample error
    ("WAV", "PCM_16", "PCM_16", 2**-15),
    ("WAV", "PCM_24", "PCM_24", 2**-23),
    ("WAV", "PCM_32", "PCM_32", 1e-7),
    ("WAV", "FLOAT", "FLOAT", 0.0),
    ("WAV", "PCM_U8", "PCM_U8", 2**-7),
    ("WAV", "ULAW", "ULAW", 0.02),
    ("WAV", "ALAW", "ALAW", 0.02),
    ("FLAC", None, "flac", 2**-15),
    ("FLAC", "PCM_24", "flac", 2**-23),
    ("MKV", "flac", "flac", 2**-15),
    ("MKV", "PCM_16", "PCM_16", 2**-15),
    ("MKV", "PCM_24", "PCM_24", 2**-23),
    ("MKV", "FLOAT", "FLOAT", 0.0),
]
LOSSY = [  # container, codec, what info.codec says
    ("MP3", None, "mp3"),
    ("OGG", "vorbis", "vorbis"),
    ("OGG", "opus", "opus"),
    ("MP4", None, "aac"),
    ("MP4", "mp3", "mp3"),
    ("M4A", None, "aac"),
    ("MKV", "opus", "opus"),
    ("MKV", "vorbis", "vorbis"),
    ("MKV", "aac", "aac"),
]
OPUS_RATES = {8000, 12000, 16000, 24000, 48000}


def sweeps(sample_rate: int, duration_s: float, channels: int) -> np.ndarray:
    """Rising sweep on the left, falling on the right: never periodic, so misalignment and
    swapped channels both show."""
    t = np.arange(round(sample_rate * duration_s)) / sample_rate
    top = min(3000.0, 0.4 * sample_rate)
    left = 0.4 * chirp(t, 200.0, duration_s, top)
    right = 0.3 * chirp(t, top, duration_s, 200.0)
    return np.stack([left, right][:channels]).astype(np.float32)


def tone(freq_hz: float, sample_rate: int, duration_s: float, amplitude: float = 0.5):
    t = np.arange(round(sample_rate * duration_s)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def lag_of(reference: np.ndarray, decoded: np.ndarray) -> int:
    n = min(len(reference), len(decoded))
    scores = correlate(decoded[:n], reference[:n], mode="full", method="fft")
    return int(np.argmax(scores)) - (n - 1)


def load_error(source, *args) -> AudioLoadError:
    with pytest.raises(AudioLoadError) as caught:
        open_audio(source, *args)
    message = str(caught.value)
    assert "\n" not in message
    return caught.value


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("container,codec,codec_name,max_error", LOSSLESS)
def test_lossless_round_trip(tmp_path, container, codec, codec_name, max_error, channels, rate):
    data = sweeps(rate, 0.3, channels)
    path = tmp_path / "audio.bin"
    write_audio(path, data, rate, container=container, codec=codec)
    source = open_audio(path)
    assert source.info == AudioInfo(
        str(path), container, codec_name, rate, channels, data.shape[1], data.shape[1] / rate
    )
    decoded = source.read()
    assert decoded.dtype == np.float32 and decoded.shape == data.shape
    assert np.abs(decoded - data).max() <= max_error + 1e-9


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("container,codec,codec_name", LOSSY)
def test_lossy_round_trip(tmp_path, container, codec, codec_name, channels, rate):
    if codec_name == "opus" and rate not in OPUS_RATES:
        pytest.skip("Opus encodes 8, 12, 16, 24 and 48 kHz only")
    if (container, codec) == ("MP4", "mp3") and rate < 16000:
        pytest.skip("MP4 holds MPEG-1 and MPEG-2 layer III only, not 8 kHz MPEG-2.5")
    data = sweeps(rate, 0.6, channels)
    path = tmp_path / "audio.bin"
    write_audio(path, data, rate, container=container, codec=codec)
    info = open_audio(path).info
    assert (info.container, info.codec, info.num_channels) == (container, codec_name, channels)
    # FFmpeg decodes Opus at 48 kHz; Matroska keeps durations in whole milliseconds.
    matroska_opus = (container, codec_name) == ("MKV", "opus")
    assert info.sample_rate == (48000 if matroska_opus else rate)
    assert abs(info.duration_s - 0.6) <= (0.002 if matroska_opus else 0.0) + 1e-9
    decoded = open_audio(path).read(rate)
    assert abs(decoded.shape[1] - data.shape[1]) <= (0.002 * rate if matroska_opus else 0)
    for ch in range(channels):
        assert np.corrcoef(data[ch], decoded[ch, : data.shape[1]])[0, 1] > 0.95
        assert lag_of(data[ch], decoded[ch]) == 0
    if channels == 2:  # not swapped
        assert abs(np.corrcoef(data[0], decoded[1, : data.shape[1]])[0, 1]) < 0.2


def test_real_speech_as_8khz_mu_law_telephony(tmp_path):
    speech = open_audio(SAMPLE_WAV)
    assert (speech.info.container, speech.info.codec) == ("WAV", "PCM_16")
    assert (speech.info.sample_rate, speech.info.num_channels) == (16000, 1)
    wide = speech.read()
    path = tmp_path / "telephony.wav"
    write_audio(path, speech.read(8000), 8000, container="WAV", codec="ULAW")
    phone = open_audio(path)
    assert (phone.info.codec, phone.info.sample_rate) == ("ULAW", 8000)
    back = phone.read(16000)
    assert back.shape == wide.shape
    assert np.corrcoef(wide[0], back[0])[0, 1] > 0.9  # only the band above 4 kHz is lost


def test_gsm_610_telephony_wav_streams(tmp_path):
    """GSM 6.10 WAV cannot seek: opening it must not take that for a truncated file."""
    import soundfile as sf

    path = tmp_path / "gsm.wav"
    sf.write(path, open_audio(SAMPLE_WAV).read(8000)[0], 8000, subtype="GSM610")
    phone = open_audio(path)
    assert (phone.info.sample_rate, phone.info.num_channels) == (8000, 1)
    total = sum(block.shape[1] for block in phone.blocks(16000, block_s=7.0))
    assert abs(total - 30 * 16000) <= 1


def test_real_speech_through_aac_in_mp4(tmp_path):
    wide = open_audio(SAMPLE_WAV).read()
    stereo = np.stack([wide[0], 0.5 * wide[0]])
    path = tmp_path / "call.mp4"
    write_audio(path, stereo, 16000, container="MP4")
    back = open_audio(path).read()
    assert back.shape == stereo.shape
    for ch in range(2):
        assert np.corrcoef(stereo[ch], back[ch])[0, 1] > 0.98
        assert lag_of(stereo[ch], back[ch]) == 0


def test_mpeg_audio_inside_wav_is_decoded_by_ffmpeg(tmp_path):
    """libsndfile misreads MPEG audio; a WAV that holds MP3 must still come out whole."""
    rate = 16000
    data = sweeps(rate, 2.0, 2)
    path = tmp_path / "mp3.wav"
    with av.open(str(path), "w", format="wav") as box:
        stream = box.add_stream("libmp3lame", rate=rate, layout="stereo")
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = rate, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            box.mux(packet)
    source = open_audio(path)
    assert (source.info.container, source.info.codec) == ("WAV", "mp3")
    decoded = source.read()
    assert abs(decoded.shape[1] - data.shape[1]) < 0.1 * rate  # WAV keeps no encoder delay
    for ch in range(2):
        rms_in, rms_out = np.sqrt(np.mean(data[ch] ** 2)), np.sqrt(np.mean(decoded[ch] ** 2))
        assert rms_out == pytest.approx(rms_in, rel=0.1)


# --- blocks and read ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "container,codec,rate,out_rate",
    [
        ("WAV", "PCM_16", 44100, None),
        ("WAV", "ULAW", 8000, 16000),
        ("FLAC", None, 48000, 16000),
        ("MP3", None, 44100, 16000),
        ("OGG", "vorbis", 22050, 8000),
        ("MP4", None, 16000, None),
        ("MKV", "opus", 48000, 16000),
    ],
)
def test_blocks_concatenate_to_read(tmp_path, container, codec, rate, out_rate):
    data = sweeps(rate, 2.3, 2)
    path = tmp_path / "audio.bin"
    write_audio(path, data, rate, container=container, codec=codec)
    source = open_audio(path)
    blocks = list(source.blocks(out_rate, block_s=0.37))
    out = out_rate or source.info.sample_rate
    size = round(0.37 * out)
    assert all(b.shape == (2, size) for b in blocks[:-1]) and 0 < blocks[-1].shape[1] <= size
    assert all(b.dtype == np.float32 and b.flags.c_contiguous for b in blocks)
    joined = np.concatenate(blocks, axis=1)
    assert abs(joined.shape[1] - round(source.info.num_frames * out / source.info.sample_rate)) <= 1
    whole = source.read(out_rate)
    assert whole.shape == joined.shape
    np.testing.assert_allclose(joined, whole, atol=1e-6)


def test_blocks_are_clipped_finite_and_leave_arrays_untouched():
    data = np.array([[0.5, 1.5, -2.0, np.nan, np.inf, 0.25] * 2000], dtype=np.float32)
    before = data.copy()
    blocks = list(open_audio(data, 8000).blocks(block_s=0.1))
    joined = np.concatenate(blocks, axis=1)
    assert np.isfinite(joined).all() and np.abs(joined).max() <= 1.0
    assert joined[0, :6].tolist() == [0.5, 1.0, -1.0, 0.0, 1.0, 0.25]
    np.testing.assert_array_equal(data, before)


def test_sources_can_be_read_again():
    source = open_audio(sweeps(16000, 1.0, 2), 16000)
    np.testing.assert_array_equal(source.read(8000), source.read(8000))


# --- resampling --------------------------------------------------------------------------------


@pytest.mark.parametrize("in_rate,out_rate", [(44100, 16000), (8000, 16000), (48000, 8000)])
def test_resampled_tone_keeps_frequency_and_energy(in_rate, out_rate):
    data = np.stack([tone(1000.0, in_rate, 3.0), tone(1000.0, in_rate, 3.0, 0.25)])
    blocks = list(open_audio(data, in_rate).blocks(out_rate, block_s=0.29))
    out = np.concatenate(blocks, axis=1)
    assert out.shape[1] == round(data.shape[1] * out_rate / in_rate)
    spectrum = np.abs(np.fft.rfft(out[0]))
    peak_hz = np.argmax(spectrum) * out_rate / out.shape[1]
    assert abs(peak_hz - 1000.0) < 1.0
    middle = slice(out_rate // 10, -out_rate // 10)  # away from the filter's edge effects
    for ch, amplitude in enumerate([0.5, 0.25]):
        rms = np.sqrt(np.mean(out[ch, middle] ** 2))
        assert rms == pytest.approx(amplitude / np.sqrt(2), rel=0.01)


@pytest.mark.parametrize("block_s", [0.013, 0.5, 7.0])
def test_streamed_resampling_matches_one_shot(block_s):
    speech = open_audio(SAMPLE_WAV)
    streamed = np.concatenate(list(speech.blocks(44100, block_s=block_s)), axis=1)
    one_shot = soxr.resample(speech.read()[0], 16000, 44100, quality="HQ")
    assert streamed.shape == (1, len(one_shot))
    assert np.abs(streamed[0] - np.clip(one_shot, -1, 1)).max() < 1e-6


def test_no_seam_at_block_boundaries():
    """A pure tone resampled in tiny blocks has no clicks: sample-to-sample steps stay small."""
    data = tone(440.0, 44100, 2.0)[np.newaxis]
    out = np.concatenate(list(open_audio(data, 44100).blocks(16000, block_s=0.01)), axis=1)
    max_step = 0.5 * 2 * np.pi * 440.0 / 16000
    assert np.abs(np.diff(out[0, 100:-100])).max() < 1.05 * max_step


# --- detection by content ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "container,codec,misleading_name",
    [
        ("FLAC", None, "audio.wav"),
        ("MKV", "opus", "audio.mp4"),
        ("MP3", None, "audio.ogg"),
        ("M4A", None, "audio.mp3"),
        ("WAV", "PCM_24", "audio.flac"),
        ("OGG", "vorbis", "audio.m4a"),
        ("MP4", None, "audio.mkv"),
    ],
)
def test_container_is_detected_from_content(tmp_path, container, codec, misleading_name):
    path = tmp_path / misleading_name
    write_audio(path, sweeps(48000, 0.5, 2), 48000, container=container, codec=codec)
    source = open_audio(path)
    assert source.info.container == container
    assert source.read().shape[0] == 2


# --- arrays ------------------------------------------------------------------------------------


def test_arrays_of_each_sample_type():
    ints = np.array([[0, 16384, -32768, 32767]], dtype=np.int16)
    assert open_audio(ints, 8000).read().tolist() == [[0.0, 0.5, -1.0, 32767 / 32768]]
    wide = np.array([0, 2**30, -(2**31)], dtype=np.int32)
    source = open_audio(wide, 8000)
    assert source.info == AudioInfo(None, "ARRAY", "PCM_32", 8000, 1, 3, 3 / 8000)
    assert source.read().tolist() == [[0.0, 0.5, -1.0]]
    doubles = np.zeros((2, 100))
    assert open_audio(doubles, 48000).read().dtype == np.float32


@pytest.mark.parametrize(
    "data,rate,error,text",
    [
        (np.zeros((3, 800), np.float32), 8000, AudioLoadError, "<array>: has 3 channels"),
        (np.zeros((0,), np.float32), 8000, AudioLoadError, "<array>: contains no audio"),
        (np.zeros((2, 800), np.float32), 4000, AudioLoadError, "<array>: sample rate 4000 Hz"),
        (np.zeros((800, 2), np.float32), 8000, ValueError, "looks like (n, channels)"),
        (np.zeros((2, 2, 2), np.float32), 8000, ValueError, "shaped"),
        (np.zeros(800, np.complex64), 8000, TypeError, "complex64"),
        (np.zeros(800, np.float32), None, ValueError, "sample_rate is required"),
        (np.zeros(800, np.float32), 16000.0, ValueError, "positive integer"),
    ],
)
def test_bad_arrays(data, rate, error, text):
    with pytest.raises(error) as caught:
        open_audio(data, rate)
    assert text in str(caught.value)


def test_files_do_not_take_a_sample_rate(tmp_path):
    path = tmp_path / "a.wav"
    write_audio(path, sweeps(16000, 0.2, 1), 16000)
    with pytest.raises(ValueError, match="only for arrays"):
        open_audio(path, 16000)


# --- bad files ---------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.wav"
    assert str(load_error(path)) == f"{path}: file not found"


def test_directory(tmp_path):
    assert str(load_error(tmp_path)) == f"{tmp_path}: is a directory, not an audio file"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.touch()
    assert str(load_error(path)) == f"{path}: file is empty (0 bytes)"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied(tmp_path):
    path = tmp_path / "locked.wav"
    write_audio(path, sweeps(8000, 0.1, 1), 8000)
    path.chmod(0)
    assert str(load_error(path)) == f"{path}: permission denied"


def _png() -> bytes:
    path_png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00"
    return path_png + b"\x00" * 64


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("notes.wav", b"call notes, not a recording\n", "not an audio file (it looks like text)"),
        ("call.mp3", json.dumps({"parties": []}).encode(), "(it looks like JSON text)"),
        ("cover.m4a", _png(), "not an audio file (it looks like a PNG image)"),
        ("noise.flac", np.random.default_rng(1).bytes(4096), "matches no known audio format"),
    ],
)
def test_not_audio(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    error = load_error(path)
    assert str(error).startswith(f"{path}: not an audio file") and reason in str(error)


def test_video_without_audio(tmp_path):
    path = tmp_path / "screen.mp4"
    with av.open(str(path), "w") as box:
        stream = box.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for _ in range(3):
            image = np.zeros((32, 32, 3), np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                box.mux(packet)
        for packet in stream.encode(None):
            box.mux(packet)
    assert str(load_error(path)) == f"{path}: contains no audio stream"


def test_more_than_two_channels(tmp_path):
    path = tmp_path / "surround.wav"
    write_audio(path, np.zeros((6, 800), np.float32), 8000)
    message = f"{path}: has 6 channels; at most 2 (stereo) are supported"
    assert str(load_error(path)) == message


def test_zero_length(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros((0, 2)), 16000)
    assert str(load_error(path)) == f"{path}: contains no audio (zero length)"


@pytest.mark.parametrize("rate", [4000, 96000])
def test_sample_rate_out_of_range(tmp_path, rate):
    path = tmp_path / "odd.wav"
    write_audio(path, np.zeros((1, 800), np.float32), rate)
    assert f"{path}: sample rate {rate} Hz is not supported" in str(load_error(path))


def _cut(path: Path, keep: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


@pytest.mark.parametrize("keep", [0.5, 0.97])
@pytest.mark.parametrize(
    "container,codec",
    [("WAV", None), ("WAV", "ULAW"), ("FLAC", None), ("MP3", None), ("OGG", "vorbis")]
    + [("OGG", "opus"), ("MP4", None), ("M4A", None), ("MKV", "opus"), ("MKV", "PCM_16")],
)
def test_truncated_files(tmp_path, container, codec, keep):
    path = tmp_path / "cut.bin"
    write_audio(path, sweeps(16000, 3.0, 2), 16000, container=container, codec=codec)
    error = load_error(_cut(path, keep))
    assert str(error).startswith(f"{path}: truncated")


def test_header_promising_more_than_the_file_holds(tmp_path):
    path = tmp_path / "cut.wav"
    write_audio(path, sweeps(8000, 2.0, 2), 8000)
    _cut(path, 0.5)
    message = "truncated: the header promises 2.00 s of audio, the file holds 1.00 s"
    assert str(load_error(path)) == f"{path}: {message}"


@pytest.mark.parametrize("container,codec", [("WAV", None), ("FLAC", None), ("MKV", "PCM_16")])
def test_truncation_found_mid_stream(tmp_path, container, codec):
    """A file cut after it was opened fails inside blocks(), as AudioLoadError."""
    path = tmp_path / "shrinking.bin"
    write_audio(path, sweeps(16000, 4.0, 2), 16000, container=container, codec=codec)
    source = open_audio(path)
    _cut(path, 0.5)
    with pytest.raises(AudioLoadError) as caught:
        for _ in source.blocks(8000, block_s=0.5):
            pass
    assert str(caught.value).startswith(f"{path}: truncated")


def test_causes_are_kept(tmp_path):
    path = tmp_path / "noise.bin"
    path.write_bytes(np.random.default_rng(2).bytes(4096))
    assert isinstance(load_error(path).__cause__, av.error.FFmpegError)


@pytest.mark.parametrize(
    "raised,reason",
    [
        (FileNotFoundError(2, "No such file"), "file not found"),
        (IsADirectoryError(21, "Is a directory"), "is a directory, not an audio file"),
        (PermissionError(13, "Permission denied"), "permission denied"),
        (OSError(5, "Input/output error"), "cannot read the file (Input/output error)"),
        (av.error.InvalidDataError(1094995529, "Invalid data"), "cannot decode (Invalid data)"),
        (av.error.EOFError(541478725, "End of file"), "truncated: the data ends unexpectedly"),
        (sf.LibsndfileError(1, "x"), "cannot decode (Format not recognised)"),
    ],
)
def test_load_errors_maps_foreign_exceptions(raised, reason):
    with pytest.raises(AudioLoadError) as caught, load_errors("call.wav"):
        raise raised
    assert str(caught.value) == f"call.wav: {reason}"
    assert caught.value.__cause__ is raised


# --- writing -----------------------------------------------------------------------------------


def test_write_refuses_unknown_formats_and_leaves_nothing(tmp_path):
    data = sweeps(44100, 0.2, 2)
    with pytest.raises(ValueError, match="cannot write container 'AIFF'"):
        write_audio(tmp_path / "a.aiff", data, 44100, container="AIFF")
    with pytest.raises(ValueError, match="cannot hold codec 'opus'"):
        write_audio(tmp_path / "a.m4a", data, 44100, container="M4A", codec="opus")
    for container in ("OGG", "MKV"):  # Opus has no 44.1 kHz mode
        with pytest.raises(ValueError, match="44100 Hz"):
            write_audio(tmp_path / "a.opus", data, 44100, container=container, codec="opus")
    assert list(tmp_path.iterdir()) == []


def test_write_replaces_atomically(tmp_path):
    path = tmp_path / "call.flac"
    write_audio(path, sweeps(16000, 0.2, 1), 16000, container="FLAC")
    write_audio(path, sweeps(16000, 0.5, 2), 16000, container="FLAC")
    assert open_audio(path).info.num_channels == 2
    assert [p.name for p in tmp_path.iterdir()] == ["call.flac"]


def test_repr_names_the_file(tmp_path):
    path = tmp_path / "call.wav"
    write_audio(path, sweeps(8000, 0.5, 2), 8000, codec="ULAW")
    assert isinstance(open_audio(path), AudioSource)
    assert repr(open_audio(path)) == f"AudioSource({str(path)!r}, WAV/ULAW, 8000 Hz, 2 ch, 0.50 s)"


# --- long recordings ---------------------------------------------------------------------------

_RSS_PROBE = textwrap.dedent(
    """
    import json, sys
    from diarize.audio import open_audio
    source = open_audio(sys.argv[1])
    def high_water_kib():  # VmHWM: unlike ru_maxrss, not inherited from the forking parent
        status = open("/proc/self/status").read()
        return int(status.split("VmHWM:")[1].split()[0])
    before_kib = high_water_kib()
    frames = sum(block.shape[1] for block in source.blocks(16000))
    peak_kib = high_water_kib()
    print(json.dumps({"frames": frames, "before_kib": before_kib, "peak_kib": peak_kib}))
    """
)


@pytest.mark.slow
def test_two_hour_stereo_wav_streams_in_bounded_memory(tmp_path):
    if shutil.disk_usage(tmp_path).free < 2 * 2**30:
        pytest.skip("needs 2 GiB of free disk for the recording")
    rate, minutes = 44100, 120
    path = tmp_path / "two_hours.wav"
    minute = (sweeps(rate, 60.0, 2).T * 32767).astype(np.int16)  # shape: (frames, channels)
    with sf.SoundFile(path, "w", rate, 2, "PCM_16") as f:
        for _ in range(minutes):
            f.write(minute)
    try:
        result = subprocess.run(
            [sys.executable, "-c", _RSS_PROBE, str(path)], capture_output=True, text=True
        )
    finally:
        path.unlink()  # 1.3 GB: do not leave it to pytest's kept temporary directories
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    assert measured["frames"] == minutes * 60 * 16000
    assert measured["peak_kib"] < 1024 * 1024  # 1 GiB
    assert measured["peak_kib"] - measured["before_kib"] < 512 * 1024
