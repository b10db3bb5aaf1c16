"""Writers behind `diarize.audio.write_audio`: libsndfile for WAV, FLAC, OGG and MP3, PyAV for
MP4, M4A and MKV. Files are written beside the target and renamed into place when complete."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from fractions import Fraction

import av
import av.error
import numpy as np
import soundfile as sf

__all__ = ["DEFAULT_CODECS", "encode"]

DEFAULT_CODECS = {
    "WAV": "PCM_16",
    "FLAC": "flac",
    "OGG": "vorbis",
    "MP3": "mp3",
    "MP4": "aac",
    "M4A": "aac",
    "MKV": "flac",
}
"""The codec `write_audio` uses for each container when none is given."""

# container -> (libsndfile format, {codec (upper case): libsndfile subtype})
_SF_TARGETS = {
    "WAV": (
        "WAV",
        {s: s for s in ("PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "ULAW", "ALAW", "PCM_U8")},
    ),
    "FLAC": ("FLAC", {"FLAC": "PCM_16", "PCM_16": "PCM_16", "PCM_24": "PCM_24"}),
    "OGG": ("OGG", {"VORBIS": "VORBIS", "OPUS": "OPUS"}),
    "MP3": ("MP3", {"MP3": "MPEG_LAYER_III"}),
}
# container -> (FFmpeg muxer, {codec (upper case): FFmpeg encoder}). Left out on purpose: MP3 in
# MKV and Opus in MP4, whose encoder delay FFmpeg does not undo on decoding (audio comes back late).
_AV_TARGETS = {
    "MP4": ("mp4", {"AAC": "aac", "MP3": "libmp3lame", "FLAC": "flac"}),
    "M4A": ("ipod", {"AAC": "aac", "ALAC": "alac"}),
    "MKV": (
        "matroska",
        {
            "OPUS": "libopus",
            "FLAC": "flac",
            "VORBIS": "libvorbis",
            "AAC": "aac",
            "PCM_16": "pcm_s16le",
            "PCM_24": "pcm_s24le",
            "PCM_32": "pcm_s32le",
            "FLOAT": "pcm_f32le",
        },
    ),
}
_WRITE_FRAMES = 1 << 16


def encode(path: str, data: np.ndarray, sample_rate: int, container: str, codec: str) -> None:
    """Write float32 ``(channels, n)`` audio to `path` atomically.

    Raises
    ------
    ValueError
        For a container or codec this module cannot write, or a combination the encoder
        refuses (e.g. Opus at 44.1 kHz).
    """
    key = codec.upper()
    if container in _SF_TARGETS:
        fmt, subtypes = _SF_TARGETS[container]
        if key not in subtypes:
            raise ValueError(_unsupported(container, codec, subtypes))
        _atomic(path, lambda tmp: _write_sf(tmp, data, sample_rate, fmt, subtypes[key]))
    elif container in _AV_TARGETS:
        muxer, encoders = _AV_TARGETS[container]
        if key not in encoders:
            raise ValueError(_unsupported(container, codec, encoders))
        if data.shape[0] > 2:
            raise ValueError(f"{container} is written with 1 or 2 channels, not {data.shape[0]}")
        _atomic(path, lambda tmp: _write_av(tmp, data, sample_rate, muxer, encoders[key]))
    else:
        known = ", ".join(DEFAULT_CODECS)
        raise ValueError(f"cannot write container {container!r}; choose one of {known}")


def _unsupported(container: str, codec: str, codecs: dict[str, str]) -> str:
    return f"{container} cannot hold codec {codec!r}; choose one of {', '.join(codecs)}"


def _atomic(path: str, write: Callable[[str], None]) -> None:
    """Run `write` on a temporary file beside `path`, then rename it to `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".partial-", dir=directory)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _write_sf(tmp: str, data: np.ndarray, sample_rate: int, fmt: str, subtype: str) -> None:
    try:
        with sf.SoundFile(tmp, "w", sample_rate, data.shape[0], subtype, format=fmt) as f:
            for start in range(0, data.shape[1], _WRITE_FRAMES):
                f.write(np.ascontiguousarray(data[:, start : start + _WRITE_FRAMES].T))
    except sf.LibsndfileError as exc:
        raise ValueError(f"cannot write {fmt}/{subtype} at {sample_rate} Hz: {exc}") from exc


def _write_av(tmp: str, data: np.ndarray, sample_rate: int, muxer: str, encoder: str) -> None:
    layout = "mono" if data.shape[0] == 1 else "stereo"
    try:
        with av.open(tmp, "w", format=muxer) as box:
            stream = box.add_stream(encoder, rate=sample_rate, layout=layout)
            for start in range(0, data.shape[1], _WRITE_FRAMES):
                piece = np.ascontiguousarray(data[:, start : start + _WRITE_FRAMES])
                frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout=layout)
                frame.sample_rate, frame.pts = sample_rate, start
                frame.time_base = Fraction(1, sample_rate)
                for packet in stream.encode(frame):
                    box.mux(packet)
            for packet in stream.encode(None):
                box.mux(packet)
    except av.error.FFmpegError as exc:
        reason = f"cannot encode {encoder} at {sample_rate} Hz into {muxer}: {exc}"
        raise ValueError(reason) from exc
