"""Block readers behind `diarize.audio`: libsndfile (soundfile), FFmpeg (PyAV) and arrays.

Each reader knows its recording's facts (container, codec, rate, channels, frames) after
construction and yields float32 pieces at the recording's own rate from `pieces`, reopening the
file on every call so that several passes can run one after another. Pieces are frames-first,
shaped ``(n, channels)`` and C-contiguous, as libsndfile returns them and soxr takes them, so the
only transpose is the final one to ``(channels, n)`` at the output rate. Every piece is a fresh
array that the caller may modify.
Errors of soundfile and PyAV become `AudioLoadError` in one place, `load_errors`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import av
import av.error
import numpy as np
import soundfile as sf

from diarize.errors import AudioLoadError

__all__ = [
    "ARRAY_PATH",
    "SOUNDFILE_CONTAINERS",
    "ArrayReader",
    "PyAVReader",
    "SoundfileReader",
    "load_errors",
    "open_reader",
    "to_float32",
]

ARRAY_PATH = "<array>"
"""What `AudioLoadError.path` says for audio handed over as an array."""

SOUNDFILE_CONTAINERS = frozenset({"WAV", "FLAC", "OGG", "AIFF", "AU", "CAF"})
"""Containers read with libsndfile first (exact lengths, fast seeking); FFmpeg reads the rest.

MPEG audio always goes to FFmpeg, even inside a WAV: libsndfile 1.2.2 returns wrong samples when
a stereo MP3 is read in several calls (as streaming does), and its MP3 frame counts can be off
(libsndfile issue #1001).
"""

_SF_CODECS = {"VORBIS": "vorbis", "OPUS": "opus"}
_SF_AVOIDED = frozenset({"MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III"})
_AV_CODECS = {
    "pcm_s16le": "PCM_16",
    "pcm_s24le": "PCM_24",
    "pcm_s32le": "PCM_32",
    "pcm_f32le": "FLOAT",
    "pcm_f64le": "DOUBLE",
    "pcm_u8": "PCM_U8",
    "pcm_mulaw": "ULAW",
    "pcm_alaw": "ALAW",
}
_AV_DEMUXERS = {
    "WAV": "wav",
    "FLAC": "flac",
    "OGG": "ogg",
    "MP3": "mp3",
    "MP4": "mov",
    "M4A": "mov",
    "MKV": "matroska",
    "AIFF": "aiff",
    "AU": "au",
    "CAF": "caf",
}
_AV_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "MP4", "matroska,webm": "MKV"}
# Demuxers whose durations come from an index or header rather than from the bit rate. Not
# "mp3": without a Xing header FFmpeg guesses from the bit rate (with one, decoding is exact).
_AV_EXACT_DEMUXERS = frozenset({"mov", "matroska", "ogg", "flac", "wav", "aiff", "caf"})
_TAIL_PROBE_S = 1.0
_TRUNCATION_SIGNS = ("fseek", "EOF", "end of file", "lost sync")


@contextmanager
def load_errors(path: str) -> Iterator[None]:
    """Turn the errors of the file system, soundfile and PyAV into `AudioLoadError` for `path`.

    The original exception is kept as ``__cause__``; the reason is one line.
    """
    try:
        yield
    except AudioLoadError:
        raise
    except FileNotFoundError as exc:
        raise AudioLoadError(path, "file not found") from exc
    except IsADirectoryError as exc:
        raise AudioLoadError(path, "is a directory, not an audio file") from exc
    except PermissionError as exc:
        raise AudioLoadError(path, "permission denied") from exc
    except av.error.EOFError as exc:
        raise AudioLoadError(path, "truncated: the data ends unexpectedly") from exc
    except av.error.FFmpegError as exc:
        raise AudioLoadError(path, _one_line(f"cannot decode ({exc.strerror})")) from exc
    except sf.LibsndfileError as exc:
        message = _libsndfile_message(exc)
        if any(sign in message for sign in _TRUNCATION_SIGNS):
            raise AudioLoadError(path, f"truncated or corrupt ({message})") from exc
        raise AudioLoadError(path, f"cannot decode ({message})") from exc
    except sf.SoundFileError as exc:
        raise AudioLoadError(path, _one_line(f"cannot decode ({exc})")) from exc
    except OSError as exc:
        raise AudioLoadError(path, _one_line(f"cannot read the file ({exc.strerror})")) from exc


def open_reader(path: str, container: str | None) -> SoundfileReader | PyAVReader:
    """Open a file with libsndfile where it is reliable, else (or when it refuses) with FFmpeg.

    Parameters
    ----------
    path
        The file.
    container
        What `diarize._sniff.sniff_container` found, or ``None`` for unrecognised bytes.

    Raises
    ------
    AudioLoadError
        For content FFmpeg cannot recognise either, or a file without an audio stream;
        soundfile and PyAV errors are left to `load_errors`.
    """
    if container in SOUNDFILE_CONTAINERS:
        try:
            reader = SoundfileReader(path, container)
        except Exception as first:  # e.g. a WAV holding a codec only FFmpeg knows
            try:
                return PyAVReader(path, container)
            except Exception:
                raise first from None
        if reader.subtype not in _SF_AVOIDED:
            return reader
    try:
        return PyAVReader(path, container)
    except av.error.FFmpegError as exc:
        if container is None:
            reason = "not an audio file (its content matches no known audio format)"
            raise AudioLoadError(path, reason) from exc
        raise


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _libsndfile_message(exc: sf.LibsndfileError) -> str:
    """libsndfile's error text on one line, without its ``Error :`` prefix."""
    return _one_line(exc.error_string.removeprefix("Error :").strip().rstrip("."))


def to_float32(data: np.ndarray) -> np.ndarray:
    """Scale integer samples to [-1, 1) and cast to float32 (no copy when already float32)."""
    if data.dtype == np.float32:
        return data
    if data.dtype.kind == "f":
        return data.astype(np.float32)
    if data.dtype == np.uint8:
        return (data.astype(np.float32) - 128.0) / 128.0
    if data.dtype.kind == "i":
        return (data / float(2 ** (8 * data.dtype.itemsize - 1))).astype(np.float32)
    raise TypeError(f"audio samples must be integers or floats, not {data.dtype}")


class ArrayReader:
    """Audio already in memory, shaped ``(channels, n)``."""

    def __init__(self, data: np.ndarray, sample_rate: int, codec: str) -> None:
        self.path: str | None = None
        self.container, self.codec = "ARRAY", codec
        self.sample_rate = sample_rate
        self.num_channels, self.num_frames = data.shape
        self._data = data

    def pieces(self, piece_frames: int) -> Iterator[np.ndarray]:
        """Copies of consecutive slices, converted to float32, shaped ``(n, channels)``."""
        for start in range(0, self.num_frames, piece_frames):
            piece = to_float32(self._data[:, start : start + piece_frames])
            yield np.array(piece.T, dtype=np.float32, order="C", copy=True)


class SoundfileReader:
    """WAV, FLAC, OGG (Vorbis, Opus) and a few more, through libsndfile."""

    def __init__(self, path: str, container: str) -> None:
        self.path: str | None = path
        with sf.SoundFile(path) as f:
            self.sample_rate, self.num_channels = f.samplerate, f.channels
            self.num_frames, self.subtype = f.frames, f.subtype
            self.container = container
            self.codec = "flac" if f.format == "FLAC" else _SF_CODECS.get(f.subtype, f.subtype)

    def check_tail(self) -> None:
        """Decode the last second, so that a file cut mid-stream fails now rather than later."""
        probe = min(self.num_frames, round(_TAIL_PROBE_S * self.sample_rate))
        total_s = self.num_frames / self.sample_rate
        reason = f"truncated: the end of the {total_s:.2f} s the header promises cannot be decoded"
        try:
            with sf.SoundFile(self.path) as f:
                if not f.seekable():  # e.g. GSM 6.10: a cut file fails while streaming instead
                    return
                f.seek(self.num_frames - probe)
                got = len(f.read(probe, dtype="float32", always_2d=True))
        except sf.LibsndfileError as exc:
            message = _libsndfile_message(exc)
            raise AudioLoadError(str(self.path), f"{reason} ({message})") from exc
        if got < probe:
            raise AudioLoadError(str(self.path), reason)

    def pieces(self, piece_frames: int) -> Iterator[np.ndarray]:
        """Consecutive float32 pieces; raises `AudioLoadError` when decoding stops early."""
        done = 0
        with sf.SoundFile(self.path) as f:
            while done < self.num_frames:
                want = min(piece_frames, self.num_frames - done)
                piece = f.read(want, dtype="float32", always_2d=True)  # shape: (n, channels)
                if len(piece) == 0:
                    raise AudioLoadError(str(self.path), _stopped_early(done, self))
                done += len(piece)
                yield piece


def _stopped_early(done: int, reader: SoundfileReader | PyAVReader) -> str:
    rate = reader.sample_rate
    return (
        f"truncated: decoding stopped at {done / rate:.2f} s of the "
        f"{reader.num_frames / rate:.2f} s the header promises"
    )


def _frame_to_float(frame: av.AudioFrame, num_channels: int) -> np.ndarray:
    """One decoded FFmpeg frame as float32 ``(n, channels)``."""
    data = frame.to_ndarray()  # planar: (channels, n); packed: (1, n * channels)
    data = data.T if frame.format.is_planar else data.reshape(-1, num_channels)
    return np.ascontiguousarray(to_float32(data))


class PyAVReader:
    """MP3, MP4, M4A, MKV and anything else FFmpeg can decode, through PyAV.

    Lengths come from the container's index. Decoded audio is fitted to that length: samples
    with negative timestamps (encoder priming) are dropped, a few frames of codec padding past
    the end are dropped, and a shortfall of at most half a second is filled with silence. A
    larger shortfall means the file is truncated.
    """

    def __init__(self, path: str, container: str | None) -> None:
        self.path: str | None = path
        self._demuxer = _AV_DEMUXERS.get(container) if container else None
        with av.open(path, format=self._demuxer) as box:
            if not box.streams.audio:
                raise AudioLoadError(path, "contains no audio stream")
            stream = box.streams.audio[0]
            self.container = container or _container_name(box.format.name)
            name = stream.codec_context.codec.canonical_name  # "mp3", not decoder "mp3float"
            self.codec = _AV_CODECS.get(name, name)
            first = next(box.decode(stream), None)
            if first is None:
                self.sample_rate, self.num_channels, self.num_frames = stream.rate or 0, 0, 0
                self.exact = True
                return
            self.sample_rate = first.sample_rate
            self.num_channels = len(first.layout.channels)
            self.num_frames, self.exact = self._declared_frames(box, stream)
        if self.num_frames is None:  # no usable duration anywhere: count by decoding
            self.num_frames = sum(len(piece) for piece in self._decoded())

    def _declared_frames(
        self, box: av.container.InputContainer, stream: av.AudioStream
    ) -> tuple[int | None, bool]:
        exact = box.format.name.split(",")[0] in _AV_EXACT_DEMUXERS
        if stream.duration is not None and stream.time_base is not None:
            return round(stream.duration * stream.time_base * self.sample_rate), exact
        if box.duration is not None:
            start_s = (box.start_time or 0) / av.time_base
            duration_s = box.duration / av.time_base + min(start_s, 0.0)
            return round(duration_s * self.sample_rate), exact
        return None, True

    def _decoded(self) -> Iterator[np.ndarray]:
        """Every decoded frame as float32 ``(n, channels)``, priming samples dropped."""
        with av.open(self.path, format=self._demuxer) as box:
            stream = box.streams.audio[0]
            for frame in box.decode(stream):
                if frame.sample_rate != self.sample_rate:
                    raise AudioLoadError(str(self.path), "the sample rate changes mid-stream")
                if len(frame.layout.channels) != self.num_channels:
                    raise AudioLoadError(str(self.path), "the channel count changes mid-stream")
                piece = _frame_to_float(frame, self.num_channels)
                if frame.pts is not None and frame.time_base is not None and frame.pts < 0:
                    piece = piece[_priming(frame) :]
                if len(piece):
                    yield piece

    def pieces(self, piece_frames: int) -> Iterator[np.ndarray]:
        """Consecutive float32 pieces, fitted to `num_frames` when the container declares it."""
        merged = _merge(self._decoded(), piece_frames)
        if not self.exact:
            yield from merged
            return
        tolerance = self.sample_rate // 2
        done, held_back = 0, []
        for piece in merged:
            room = self.num_frames - done
            if room > 0:
                yield piece[:room]
                done += min(room, len(piece))
                piece = piece[room:]
            if len(piece):  # past the declared end: codec padding, unless there is a lot
                held_back.append(piece)
                if sum(len(p) for p in held_back) > tolerance:
                    yield from held_back
                    held_back = []
        if self.num_frames - done > tolerance:
            raise AudioLoadError(str(self.path), _stopped_early(done, self))
        if done < self.num_frames:
            yield np.zeros((self.num_frames - done, self.num_channels), dtype=np.float32)


def _priming(frame: av.AudioFrame) -> int:
    """How many leading samples of a frame with a negative timestamp lie before time zero."""
    skip = round(-frame.pts * frame.time_base * frame.sample_rate)
    resolution = math.ceil(frame.time_base * frame.sample_rate)  # Matroska: 1 ms
    return frame.samples if skip >= frame.samples - resolution else max(skip, 0)


def _merge(pieces: Iterator[np.ndarray], piece_frames: int) -> Iterator[np.ndarray]:
    """Join small decoded frames into pieces of at least `piece_frames`."""
    pending: list[np.ndarray] = []
    count = 0
    for piece in pieces:
        pending.append(piece)
        count += len(piece)
        if count >= piece_frames:
            yield np.concatenate(pending)
            pending, count = [], 0
    if pending:
        yield np.concatenate(pending)


def _container_name(demuxer: str) -> str:
    return _AV_CONTAINERS.get(demuxer, demuxer.split(",")[0].upper())
