"""Audio in and out: open a recording (or wrap an array), stream it in float32 blocks, write one.

Everything downstream reads audio through `open_audio` and `AudioSource.blocks`, so memory stays
bounded by the block size however long the call is::

    source = open_audio("call.mp4")          # validates now: AudioLoadError on any problem
    for block in source.blocks(16000):       # float32, shape (channels, n), resampled
        ...

Decoders install from PyPI alone: libsndfile (soundfile) reads WAV, FLAC and OGG; FFmpeg (PyAV)
reads MP3, MP4, M4A, MKV and anything else. The container is recognised from the file's bytes,
never from its name.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import soxr

from diarize._decoders import (
    ARRAY_PATH,
    ArrayReader,
    PyAVReader,
    SoundfileReader,
    load_errors,
    open_reader,
    to_float32,
)
from diarize._encoders import DEFAULT_CODECS, encode
from diarize._sniff import HEAD_BYTES, describe_non_audio, find_truncation, sniff_container
from diarize.errors import AudioLoadError

__all__ = [
    "MAX_CHANNELS",
    "MAX_SAMPLE_RATE",
    "MIN_SAMPLE_RATE",
    "AudioInfo",
    "AudioSource",
    "open_audio",
    "write_audio",
]

MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 48000
MAX_CHANNELS = 2
_RESAMPLE_QUALITY = "HQ"

_Reader = ArrayReader | SoundfileReader | PyAVReader


@dataclass(frozen=True)
class AudioInfo:
    """What a recording is, found when it was opened.

    Attributes
    ----------
    path
        The file, or ``None`` for an in-memory array.
    container
        ``"WAV"``, ``"FLAC"``, ``"MP3"``, ``"MP4"``, ``"MKV"``, ``"OGG"``, ``"M4A"`` (or another
        name FFmpeg gives), ``"ARRAY"`` for arrays; recognised from the content, not the name.
    codec
        ``"PCM_16"``, ``"PCM_24"``, ``"PCM_32"``, ``"FLOAT"``, ``"ULAW"``, ``"ALAW"``,
        ``"PCM_U8"`` for raw samples; ``"mp3"``, ``"aac"``, ``"opus"``, ``"vorbis"``, ``"flac"``
        (FFmpeg's name) for compressed ones.
    sample_rate
        Frames per second as decoded (Opus in MP4/MKV decodes at 48000).
    num_channels
        1 or 2.
    num_frames
        Frames per channel: exact for WAV, FLAC, OGG, MP4/M4A and MP3 with a Xing header; to the
        millisecond for MKV (which stores durations in ms; `AudioSource.blocks` pads or trims to
        it); else FFmpeg's estimate, which the decoded audio may differ from.
    duration_s
        ``num_frames / sample_rate``.
    """

    path: str | None
    container: str
    codec: str
    sample_rate: int
    num_channels: int
    num_frames: int
    duration_s: float


class AudioSource:
    """An opened recording that can be read, whole or in blocks, any number of times."""

    def __init__(self, reader: _Reader) -> None:
        self._reader = reader
        self.info = AudioInfo(
            path=reader.path,
            container=reader.container,
            codec=reader.codec,
            sample_rate=reader.sample_rate,
            num_channels=reader.num_channels,
            num_frames=reader.num_frames,
            duration_s=reader.num_frames / reader.sample_rate,
        )

    def __repr__(self) -> str:
        i = self.info
        return (
            f"AudioSource({i.path or ARRAY_PATH!r}, {i.container}/{i.codec}, {i.sample_rate} Hz, "
            f"{i.num_channels} ch, {i.duration_s:.2f} s)"
        )

    def blocks(self, sample_rate: int | None = None, block_s: float = 60.0) -> Iterator[np.ndarray]:
        """Stream the whole recording as consecutive float32 blocks.

        Parameters
        ----------
        sample_rate
            Output rate in Hz; ``None`` keeps the recording's rate. Resampling is streamed
            (soxr), so block boundaries leave no seam and no sample is lost or repeated.
        block_s
            Length of each block in seconds; the last block may be shorter.

        Yields
        ------
        numpy.ndarray
            float32, shape ``(num_channels, n)``, C-contiguous, values in [-1, 1]; every block
            but the last holds ``round(block_s * rate)`` frames. In all,
            ``round(num_frames * sample_rate / info.sample_rate)`` frames (where `num_frames` is
            only an estimate, see `AudioInfo`, as many as the decoder delivers).

        Raises
        ------
        AudioLoadError
            When decoding fails part-way (a file truncated or changed after it was opened).
        """
        out_rate = self.info.sample_rate if sample_rate is None else _check_rate_arg(sample_rate)
        if not block_s > 0:
            raise ValueError(f"block_s must be positive, not {block_s!r}")
        piece_frames = max(1, round(block_s * self.info.sample_rate))
        block_frames = max(1, round(block_s * out_rate))
        path = self.info.path or ARRAY_PATH
        with load_errors(path):
            pieces = self._reader.pieces(piece_frames)
            if out_rate != self.info.sample_rate:
                pieces = _resample(pieces, self.info.sample_rate, out_rate, self.info.num_channels)
            for block in _rechunk(pieces, block_frames):
                yield _sanitize(block)

    def read(self, sample_rate: int | None = None) -> np.ndarray:
        """The whole recording as one float32 array shaped ``(num_channels, n)``.

        Parameters
        ----------
        sample_rate
            Output rate in Hz; ``None`` keeps the recording's rate.

        Returns
        -------
        numpy.ndarray
            The concatenation of `blocks` (meant for short recordings and tests).
        """
        return np.concatenate(list(self.blocks(sample_rate)), axis=1)


def open_audio(
    source: str | os.PathLike[str] | np.ndarray, sample_rate: int | None = None
) -> AudioSource:
    """Open a recording file, or wrap an array, for reading.

    A file is checked completely before this returns: it exists, is readable, holds audio in a
    known container, is not truncated (as far as its headers and its last second show), has one
    or two channels, a rate of 8000 to 48000 Hz, and at least one frame.

    Parameters
    ----------
    source
        A path, or an array shaped ``(n,)`` (mono) or ``(channels, n)`` with 1 or 2 channels, of
        int16, int32 or float samples (floats are expected in [-1, 1]).
    sample_rate
        The array's rate in Hz; required for arrays, not accepted for files (a file's rate is
        read from the file; pass a rate to `AudioSource.blocks` to resample).

    Returns
    -------
    AudioSource

    Raises
    ------
    AudioLoadError
        Missing, unreadable, empty, non-audio, truncated or corrupt files, more than two
        channels, zero-length audio, or a rate outside 8000-48000 Hz. The message names the file
        (``<array>`` for arrays) and the reason on one line.
    """
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise ValueError("sample_rate is required when the audio is an array")
        data, codec = _as_channels_first(source)
        return _checked(ArrayReader(data, _check_rate_arg(sample_rate), codec))
    if sample_rate is not None:
        raise ValueError(
            "sample_rate is only for arrays: a file's rate is read from the file "
            "(to resample, pass a rate to AudioSource.blocks or AudioSource.read)"
        )
    path = os.fspath(source)
    with load_errors(path):
        container = _inspect_file(path)
        source_ = _checked(open_reader(path, container))
        if isinstance(source_._reader, SoundfileReader):
            source_._reader.check_tail()
    return source_


def write_audio(
    path: str | os.PathLike[str],
    data: np.ndarray,
    sample_rate: int,
    *,
    container: str = "WAV",
    codec: str | None = None,
) -> None:
    """Write audio to a file, atomically (a failed write leaves nothing at `path`).

    Parameters
    ----------
    path
        Target file; its name does not choose the format, `container` does.
    data
        Shape ``(channels, n)`` or ``(n,)``; floats in [-1, 1] (clipped) or int16/int32.
    sample_rate
        Rate in Hz.
    container
        ``"WAV"``, ``"FLAC"``, ``"OGG"``, ``"MP3"``, ``"MP4"``, ``"M4A"`` or ``"MKV"``.
    codec
        WAV: ``"PCM_16"`` (default), ``"PCM_24"``, ``"PCM_32"``, ``"FLOAT"``, ``"DOUBLE"``,
        ``"ULAW"``, ``"ALAW"``, ``"PCM_U8"``. FLAC: ``"flac"`` (16-bit) or ``"PCM_24"``.
        OGG: ``"vorbis"`` (default) or ``"opus"``. MP3: ``"mp3"``. MP4: ``"aac"`` (default),
        ``"mp3"``, ``"flac"``. M4A: ``"aac"``, ``"alac"``. MKV: ``"flac"`` (default),
        ``"opus"``, ``"vorbis"``, ``"aac"``, ``"PCM_16"``, ``"PCM_24"``, ``"PCM_32"``,
        ``"FLOAT"``. Opus takes 8000, 12000, 16000, 24000 or 48000 Hz only.

    Raises
    ------
    ValueError
        An unknown container or codec, a combination the encoder refuses, or bad data.
    """
    container = container.upper()
    if not isinstance(sample_rate, int | np.integer) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer, not {sample_rate!r}")
    samples = np.asarray(data)
    if samples.ndim == 1:
        samples = samples[np.newaxis]
    if samples.ndim != 2 or samples.shape[1] == 0 or samples.shape[0] > 64:
        raise ValueError(f"data must be shaped (channels, n) with n > 0, not {samples.shape}")
    samples = np.clip(to_float32(samples), -1.0, 1.0)  # a new array: safe to fix in place
    np.nan_to_num(samples, copy=False)
    codec = codec or DEFAULT_CODECS.get(container, "")
    encode(os.fspath(path), samples, int(sample_rate), container, codec)


def _inspect_file(path: str) -> str | None:
    """Check what can be checked from the file system and the bytes; return the container."""
    info = os.stat(path)
    if stat.S_ISDIR(info.st_mode):
        raise AudioLoadError(path, "is a directory, not an audio file")
    if not stat.S_ISREG(info.st_mode):
        raise AudioLoadError(path, "is not a regular file")
    with open(path, "rb") as fh:
        if info.st_size == 0:
            raise AudioLoadError(path, "file is empty (0 bytes)")
        container = sniff_container(fh)
        if container is None:
            fh.seek(0)
            what = describe_non_audio(fh.read(HEAD_BYTES))
            if what is not None:
                raise AudioLoadError(path, f"not an audio file (it looks like {what})")
            return None
        truncation = find_truncation(fh, container, info.st_size)
    if truncation is not None:
        raise AudioLoadError(path, truncation)
    return container


def _checked(reader: _Reader) -> AudioSource:
    """Refuse zero-length audio, more than two channels and rates outside the supported range."""
    path = reader.path or ARRAY_PATH
    if reader.num_frames <= 0 or reader.num_channels == 0:
        raise AudioLoadError(path, "contains no audio (zero length)")
    if reader.num_channels > MAX_CHANNELS:
        raise AudioLoadError(
            path, f"has {reader.num_channels} channels; at most 2 (stereo) are supported"
        )
    if not MIN_SAMPLE_RATE <= reader.sample_rate <= MAX_SAMPLE_RATE:
        raise AudioLoadError(
            path,
            f"sample rate {reader.sample_rate} Hz is not supported "
            f"(it must be {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz); resample the recording",
        )
    return AudioSource(reader)


def _as_channels_first(data: np.ndarray) -> tuple[np.ndarray, str]:
    """Shape an array as ``(channels, n)`` and name its sample type as a codec."""
    codecs = {"int16": "PCM_16", "int32": "PCM_32", "float32": "FLOAT", "float64": "DOUBLE"}
    if data.dtype.name not in codecs and data.dtype.name != "float16":
        raise TypeError(f"audio arrays must be int16, int32 or float, not {data.dtype}")
    if data.ndim == 1:
        data = data[np.newaxis]
    if data.ndim != 2:
        raise ValueError(f"audio arrays must be shaped (n,) or (channels, n), not {data.shape}")
    if data.shape[0] > MAX_CHANNELS and data.shape[1] <= MAX_CHANNELS:
        raise ValueError(
            f"audio array shaped {data.shape} looks like (n, channels); pass (channels, n), "
            "e.g. data.T"
        )
    return data, codecs.get(data.dtype.name, "FLOAT")


def _check_rate_arg(sample_rate: int) -> int:
    if not isinstance(sample_rate, int | np.integer) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer, not {sample_rate!r}")
    return int(sample_rate)


def _resample(
    pieces: Iterable[np.ndarray], in_rate: int, out_rate: int, num_channels: int
) -> Iterator[np.ndarray]:
    """Resample a stream of ``(n, channels)`` pieces with one soxr stream (no seams)."""
    stream = soxr.ResampleStream(
        in_rate, out_rate, num_channels, dtype="float32", quality=_RESAMPLE_QUALITY
    )
    for piece in pieces:
        out = stream.resample_chunk(piece, last=False)  # shape: (n_out, channels)
        if len(out):
            yield out
    tail = stream.resample_chunk(np.zeros((0, num_channels), dtype=np.float32), last=True)
    if len(tail):
        yield tail


def _rechunk(pieces: Iterable[np.ndarray], block_frames: int) -> Iterator[np.ndarray]:
    """Regroup ``(n, channels)`` pieces into blocks of exactly `block_frames` (last one shorter)."""
    pending: list[np.ndarray] = []
    count = 0
    for piece in pieces:
        pending.append(piece)
        count += len(piece)
        if count < block_frames:
            continue
        joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
        start = 0
        while count - start >= block_frames:
            yield joined[start : start + block_frames]
            start += block_frames
        pending, count = ([joined[start:]], count - start) if count > start else ([], 0)
    if count:
        yield np.concatenate(pending)


def _sanitize(frames: np.ndarray) -> np.ndarray:
    """An ``(n, channels)`` block as C-contiguous ``(channels, n)``, finite and within [-1, 1]."""
    block = np.ascontiguousarray(frames.T, dtype=np.float32)
    if not np.isfinite(block).all():
        np.nan_to_num(block, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(block, -1.0, 1.0, out=block)
