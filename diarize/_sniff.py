"""What a file holds, judged from its bytes alone: container sniffing and cheap integrity checks.

Nothing here decodes audio. `sniff_container` names the container from its magic bytes (never from
the file name), `describe_non_audio` recognises common files that are not audio at all, and
`find_truncation` reads the container's own length fields (RIFF chunk sizes, MP4 box sizes, the
Matroska segment size, the MP3 Xing header, the final Ogg page) to tell a file that was cut
short, without reading its payload.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

__all__ = ["HEAD_BYTES", "describe_non_audio", "find_truncation", "sniff_container"]

HEAD_BYTES = 4096
"""How many leading bytes `sniff_container` and `describe_non_audio` look at."""

_M4A_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
_NON_AUDIO_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "an executable"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
# MPEG audio layer III: bit rates (kbit/s) by [is MPEG-1][index]; sample rates by version bits.
_MP3_KBPS = {
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_MKV_SEGMENT_ID = 0x18538067
_OGG_MAX_PAGE = 27 + 255 + 255 * 255


def sniff_container(fh: BinaryIO) -> str | None:
    """Name the container of an open binary file from its magic bytes.

    Parameters
    ----------
    fh
        A seekable binary file, positioned anywhere.

    Returns
    -------
    str or None
        ``"WAV"``, ``"FLAC"``, ``"OGG"``, ``"MP3"``, ``"MP4"``, ``"M4A"``, ``"MKV"``, ``"AIFF"``,
        ``"AU"`` or ``"CAF"``; ``None`` when the bytes match none of them.
    """
    fh.seek(0)
    head = fh.read(HEAD_BYTES)
    tag4, form = head[:4], head[8:12]
    if (tag4 in (b"RIFF", b"RIFX") and form == b"WAVE") or tag4 in (b"RF64", b"BW64"):
        return "WAV"
    if head[4:8] == b"ftyp":
        return "M4A" if form in _M4A_BRANDS else "MP4"
    simple = {b"fLaC": "FLAC", b"OggS": "OGG", _EBML_MAGIC: "MKV", b".snd": "AU", b"caff": "CAF"}
    if tag4 in simple:
        return simple[tag4]
    if tag4 == b"FORM" and form in (b"AIFF", b"AIFC"):
        return "AIFF"
    offset = _id3v2_end(head)
    if offset:
        fh.seek(offset)
        head = fh.read(HEAD_BYTES)
        if head[:4] == b"fLaC":
            return "FLAC"
    if _mp3_frame(head, 0) is not None:
        return "MP3"
    return None


def describe_non_audio(head: bytes) -> str | None:
    """Say what a file is when its first bytes show it is clearly not audio.

    Parameters
    ----------
    head
        The file's first bytes (`HEAD_BYTES` is plenty).

    Returns
    -------
    str or None
        A phrase such as ``"a PNG image"``, ``"JSON text"`` or ``"text"``; ``None`` when the
        bytes are not recognised (they may still be audio in a format only FFmpeg knows).
    """
    for magic, what in _NON_AUDIO_MAGIC:
        if head.startswith(magic):
            return what
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte character cut at the end of `head`
        if exc.start < len(head) - 3:
            return None
        text = head[: exc.start].decode("utf-8")
    if not text or not all(ch.isprintable() or ch in "\t\r\n\f" for ch in text):
        return None
    return "JSON text" if text.lstrip().startswith(("{", "[")) else "text"


def find_truncation(fh: BinaryIO, container: str, size: int) -> str | None:
    """Check the container's own length fields against the file size.

    Parameters
    ----------
    fh
        The open, seekable binary file.
    container
        What `sniff_container` found.
    size
        The file size in bytes.

    Returns
    -------
    str or None
        A one-line reason starting with ``"truncated"`` when the file is shorter than its
        headers promise, else ``None`` (which proves nothing for formats without such fields).
    """
    check = {
        "WAV": _wav_truncation,
        "MP4": _mp4_truncation,
        "M4A": _mp4_truncation,
        "MKV": _mkv_truncation,
        "MP3": _mp3_truncation,
        "OGG": _ogg_truncation,
    }.get(container)
    return None if check is None else check(fh, size)


def promised_vs_held(promised_s: float, held_s: float) -> str:
    """The reason used whenever a header promises more audio than a file holds."""
    return (
        f"truncated: the header promises {promised_s:.2f} s of audio, the file holds {held_s:.2f} s"
    )


def _id3v2_end(head: bytes) -> int:
    """Offset just past a leading ID3v2 tag (0 when there is none)."""
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | head[9] & 0x7F
    return 10 + size + (10 if head[5] & 0x10 else 0)


def _mp3_header(buf: bytes, pos: int) -> tuple[int, bool, int, int] | None:
    """Parse one MPEG layer III frame header: (frame bytes, is MPEG-1, sample rate, mode)."""
    if len(buf) < pos + 4:
        return None
    word = int.from_bytes(buf[pos : pos + 4], "big")
    version, layer = (word >> 19) & 3, (word >> 17) & 3
    rate_index, kbps_index = (word >> 10) & 3, (word >> 12) & 0xF
    if word >> 21 != 0x7FF or version == 1 or layer != 1 or rate_index == 3:
        return None
    if kbps_index in (0, 15):
        return None
    mpeg1 = version == 3
    sample_rate = _MP3_RATES[version][rate_index]
    kbps = _MP3_KBPS[mpeg1][kbps_index]
    frame_bytes = (144 if mpeg1 else 72) * kbps * 1000 // sample_rate + ((word >> 9) & 1)
    return frame_bytes, mpeg1, sample_rate, (word >> 6) & 3


def _mp3_frame(buf: bytes, pos: int) -> tuple[int, bool, int, int] | None:
    """A layer III frame header at `pos` that is followed by another one (when `buf` holds it)."""
    first = _mp3_header(buf, pos)
    if first is None:
        return None
    follow = pos + first[0]
    if len(buf) >= follow + 4 and _mp3_header(buf, follow) is None:
        return None
    return first


def _wav_truncation(fh: BinaryIO, size: int) -> str | None:
    fh.seek(0)
    if fh.read(12)[:4] != b"RIFF":  # RF64/BW64 keep their sizes elsewhere; RIFX is rare
        return None
    pos, byte_rate = 12, 0
    for _ in range(10_000):
        if pos + 8 > size:
            break
        fh.seek(pos)
        chunk_id, chunk_size = struct.unpack("<4sI", fh.read(8))
        if chunk_id == b"fmt ":
            fmt = fh.read(16)
            byte_rate = struct.unpack("<I", fmt[8:12])[0] if len(fmt) == 16 else 0
        elif chunk_id == b"data":
            held = size - pos - 8
            if chunk_size in (0, 0xFFFFFFFF) or chunk_size <= held:
                return None
            if byte_rate:
                return promised_vs_held(chunk_size / byte_rate, held / byte_rate)
            return f"truncated: the header promises {chunk_size} bytes of audio, {held} are present"
        pos += 8 + chunk_size + (chunk_size & 1)
    return "truncated: the WAV file ends before its audio data begins"


def _mp4_truncation(fh: BinaryIO, size: int) -> str | None:
    pos, seen = 0, set()
    while pos + 8 <= size and len(seen) < 100_000:
        fh.seek(pos)
        head = fh.read(16)
        box_size, box_type = struct.unpack(">I4s", head[:8])
        if box_size == 1 and len(head) == 16:
            box_size = struct.unpack(">Q", head[8:16])[0]
        elif box_size == 0:
            box_size = size - pos
        if box_size < 8:
            return f"corrupt: the MP4 box at byte {pos} has an impossible size ({box_size})"
        name = box_type.decode("latin-1")
        if pos + box_size > size:
            return (
                f"truncated: the MP4 '{name}' box runs past the end of the file "
                f"({size - pos} of {box_size} bytes present)"
            )
        seen.add(box_type)
        pos += box_size
    if b"moov" not in seen:
        return "truncated: the MP4 index ('moov' box) is missing; the recording was not finalised"
    return None


def _ebml_vint(buf: bytes, pos: int) -> tuple[int, int, bool]:
    """Read an EBML variable-size integer: (value, length in bytes, all value bits set)."""
    first = buf[pos]
    length = 9 - first.bit_length() if first else 9
    if length > 8 or pos + length > len(buf):
        raise ValueError("bad EBML integer")
    value = first & ((1 << (8 - length)) - 1)
    for byte in buf[pos + 1 : pos + length]:
        value = value << 8 | byte
    return value, length, value == (1 << (7 * length)) - 1


def _mkv_truncation(fh: BinaryIO, size: int) -> str | None:
    fh.seek(0)
    buf = fh.read(HEAD_BYTES)
    try:
        header_size, n, _ = _ebml_vint(buf, 4)
        pos = 4 + n + header_size
        segment_id = int.from_bytes(buf[pos : pos + 4], "big")
        segment_size, n, unknown = _ebml_vint(buf, pos + 4)
    except (ValueError, IndexError):
        return None  # an unusual header: leave the verdict to the decoder
    start = pos + 4 + n
    if segment_id != _MKV_SEGMENT_ID or unknown or start + segment_size <= size:
        return None
    return (
        "truncated: the Matroska segment runs past the end of the file "
        f"({size - start} of {segment_size} bytes present)"
    )


def _mp3_truncation(fh: BinaryIO, size: int) -> str | None:
    fh.seek(0)
    start = _id3v2_end(fh.read(10))
    fh.seek(start)
    buf = fh.read(HEAD_BYTES)
    header = _mp3_header(buf, 0)
    if header is None:
        return None
    _, mpeg1, sample_rate, mode = header
    side_info = (17 if mode == 3 else 32) if mpeg1 else (9 if mode == 3 else 17)
    tag = 4 + side_info
    if buf[tag : tag + 4] not in (b"Xing", b"Info") or len(buf) < tag + 16:
        return None  # no Xing/Info header: nothing promises a length
    flags = struct.unpack(">I", buf[tag + 4 : tag + 8])[0]
    if flags & 3 != 3:
        return None
    num_mp3_frames, promised_bytes = struct.unpack(">II", buf[tag + 8 : tag + 16])
    held_bytes = size - start
    if promised_bytes <= held_bytes or promised_bytes == 0:
        return None
    promised_s = num_mp3_frames * (1152 if mpeg1 else 576) / sample_rate
    return promised_vs_held(promised_s, promised_s * held_bytes / promised_bytes)


def _ogg_truncation(fh: BinaryIO, size: int) -> str | None:
    tail_start = max(0, size - _OGG_MAX_PAGE)
    fh.seek(tail_start)
    tail = fh.read()
    pos = tail.rfind(b"OggS")
    while pos >= 0:
        if len(tail) >= pos + 27 and tail[pos + 4] == 0 and len(tail) >= pos + 27 + tail[pos + 26]:
            segments = tail[pos + 27 : pos + 27 + tail[pos + 26]]
            end = pos + 27 + len(segments) + sum(segments)
            if end > len(tail):
                return "truncated: the last Ogg page is incomplete"
            if end == len(tail) and not tail[pos + 5] & 0x04:
                return "truncated: the Ogg stream ends without its end-of-stream page"
            return None
        pos = tail.rfind(b"OggS", 0, pos)
    return None
