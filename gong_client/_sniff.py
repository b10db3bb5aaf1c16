"""Telling WAV, MP3, MP4, MKV and FLAC apart by their first bytes (magic numbers).

Used by the client before it sends a recording and by the emulator on what it receives.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import BinaryIO

__all__ = ["MediaFormat", "sniff_format"]

HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class MediaFormat:
    """One accepted container: a short name, the MIME type sent, the file name extension."""

    name: str
    mime_type: str
    extension: str


WAV = MediaFormat("WAV", "audio/wav", "wav")
MP3 = MediaFormat("MP3", "audio/mpeg", "mp3")
FLAC = MediaFormat("FLAC", "audio/flac", "flac")
MP4 = MediaFormat("MP4", "video/mp4", "mp4")
M4A = MediaFormat("MP4", "audio/mp4", "m4a")
MKV = MediaFormat("MKV", "video/x-matroska", "mkv")

_MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"mp71",
    b"M4A ", b"M4B ", b"M4V ", b"M4VH", b"M4VP", b"avc1", b"dash", b"MSNV", b"f4v ", b"f4a ",
}  # fmt: skip
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"f4a "}
_NOT_MP4_BRANDS = {
    b"qt  ": "a QuickTime movie (MOV), not MP4",
    b"heic": "a HEIF image",
    b"heix": "a HEIF image",
    b"mif1": "a HEIF image",
    b"avif": "an AVIF image",
    b"crx ": "a Canon raw image",
}
_OTHER_MAGIC = (
    (b"OggS", "an Ogg file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"#!AMR", "an AMR file"),
    (b"\x30\x26\xb2\x75", "an ASF/WMA file"),
)
_ACCEPTED = "WAV, MP3, MP4, MKV or FLAC"


def sniff_format(f: BinaryIO) -> MediaFormat | str:
    """Tell the container of an open file by its content.

    Parameters
    ----------
    f
        A readable, seekable binary file positioned anywhere (it is read from the start).

    Returns
    -------
    MediaFormat or str
        The format, or a one-line reason why the content is not accepted.
    """
    f.seek(0)
    head = f.read(HEAD_BYTES)
    offset = 0
    if head[:3] == b"ID3" and len(head) >= 10:  # ID3v2 tag before MP3 (or FLAC) frames
        offset = _id3_length(head)
        f.seek(offset)
        head = f.read(HEAD_BYTES)
    found = _container(head) if offset == 0 else None
    if found is not None:
        return found
    if head[:4] == b"fLaC":
        return FLAC
    if _mpeg_layer3_at(head, 0):
        return MP3
    return _reason(head, tagged=offset > 0)


def _container(head: bytes) -> MediaFormat | str | None:
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return WAV
    if head[4:8] == b"ftyp":
        return _mp4(head)
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return _matroska(head)
    return None


def _mp4(head: bytes) -> MediaFormat | str:
    box_bytes = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    brands = [major] + [head[i : i + 4] for i in range(16, min(box_bytes, len(head)) - 3, 4)]
    if major in _NOT_MP4_BRANDS:
        return f"the content is {_NOT_MP4_BRANDS[major]}; Gong takes {_ACCEPTED}"
    if any(b in _MP4_BRANDS for b in brands):
        return M4A if major in _AUDIO_BRANDS else MP4
    shown = major.decode("latin-1").strip()
    return f"an ISO media file of brand {shown!r}, not MP4; Gong takes {_ACCEPTED}"


def _matroska(head: bytes) -> MediaFormat | str:
    at = head.find(b"\x42\x82", 4, 256)  # the EBML DocType element
    if at < 0 or at + 3 > len(head):
        return MKV  # an EBML header without a DocType defaults to matroska
    size = head[at + 2] & 0x7F if head[at + 2] & 0x80 else 0
    doc_type = head[at + 3 : at + 3 + size].rstrip(b"\x00")
    if doc_type == b"matroska":
        return MKV
    shown = doc_type.decode("latin-1") or "unknown"
    return f"a Matroska-family file of type {shown!r}, not MKV; remux it to MKV"


def _id3_length(head: bytes) -> int:
    size = 0
    for byte in head[6:10]:  # "synchsafe": 7 bits per byte
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


_BITRATES_KBPS = {  # layer III only: MPEG-1, and MPEG-2/2.5
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mpeg_frame_bytes(head: bytes, at: int) -> int:
    """Length of an MPEG layer III frame whose header starts at ``at``; 0 when not one."""
    if at + 4 > len(head) or head[at] != 0xFF or head[at + 1] & 0xE0 != 0xE0:
        return 0
    version = (head[at + 1] >> 3) & 3  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5, 1: reserved
    layer = (head[at + 1] >> 1) & 3  # 1: layer III
    bitrate_index, rate_index = head[at + 2] >> 4, (head[at + 2] >> 2) & 3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return 0
    bitrate = _BITRATES_KBPS[3 if version == 3 else 2][bitrate_index] * 1000
    sample_rate = _SAMPLE_RATES[version][rate_index]
    padding = (head[at + 2] >> 1) & 1
    per_frame = 144 if version == 3 else 72
    return per_frame * bitrate // sample_rate + padding


def _mpeg_layer3_at(head: bytes, at: int) -> bool:
    """A layer III frame header at ``at``, followed by another when the data goes that far."""
    frame = _mpeg_frame_bytes(head, at)
    if frame == 0:
        return False
    nxt = at + frame
    return nxt + 4 > len(head) or _mpeg_frame_bytes(head, nxt) > 0


def _reason(head: bytes, *, tagged: bool) -> str:
    if not head:
        return "nothing after the ID3 tag" if tagged else "the file is empty"
    for magic, what in _OTHER_MAGIC:
        if head.startswith(magic):
            return f"the content is {what}; Gong takes {_ACCEPTED}"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return f"the content is AIFF audio; Gong takes {_ACCEPTED}"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return f"the content is AAC (ADTS) audio; Gong takes {_ACCEPTED}"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return f"the content is MPEG audio but not layer III (MP3); Gong takes {_ACCEPTED}"
    if _looks_like_text(head):
        return f"the content is text, not audio; Gong takes {_ACCEPTED}"
    return f"the content is not {_ACCEPTED} (judged by the bytes, not the file name)"


def _looks_like_text(head: bytes) -> bool:
    sample = head[:4096]
    try:  # not final: a character cut at the end of the sample is fine
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return b"\x00" not in sample
