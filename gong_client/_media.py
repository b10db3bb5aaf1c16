"""Recording checks by content, and the streamed ``multipart/form-data`` body of the media step.

Gong takes WAV, MP3, MP4, MKV and FLAC of at most 1.5 GB. The format is told by the first
bytes of the file, never by its name: a WAV named ``.mp3`` is sent as ``audio/wav`` with a
``.wav`` file name, and a PNG named ``.wav`` is refused before anything is sent. The body is
written once as a chunk generator (`MediaBody`) that reads the file in 1 MiB pieces, so a
1.5 GB upload needs a few MiB of memory; each attempt of a retry reads the file afresh.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gong_client._config import MAX_MEDIA_BYTES
from gong_client._sniff import MediaFormat, sniff_format
from gong_client.errors import MediaError

__all__ = ["MediaBody", "MediaFormat", "check_media", "sha256_file", "sniff_format"]

CHUNK_BYTES = 1024 * 1024

Progress = Callable[[int, int], None]
"""Called as ``progress(sent_bytes, total_bytes)`` while the file goes out."""


@dataclass(frozen=True)
class MediaFile:
    """A recording that passed the checks: its path, size and format."""

    path: Path
    size_bytes: int
    format: MediaFormat


def check_media(path: str | os.PathLike, *, max_bytes: int = MAX_MEDIA_BYTES) -> MediaFile:
    """Check that a recording is a readable WAV/MP3/MP4/MKV/FLAC file within Gong's size cap.

    Parameters
    ----------
    path
        The recording.
    max_bytes
        The size cap (Gong's 1.5 GB by default).

    Returns
    -------
    MediaFile

    Raises
    ------
    MediaError
        Missing, not a regular file, unreadable, empty, too large, or not one of the formats
        by its content; the message names the file and the reason.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise MediaError(p, "file not found") from None
    except OSError as exc:
        raise MediaError(p, f"cannot read the file ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise MediaError(p, "not a regular file")
    if st.st_size == 0:
        raise MediaError(p, "the file is empty")
    if st.st_size > max_bytes:
        raise MediaError(
            p,
            f"{st.st_size / 2**30:.2f} GiB is over Gong's 1.5 GB limit ({max_bytes} bytes); "
            "split or re-encode the recording",
        )
    try:
        with p.open("rb") as f:
            fmt = sniff_format(f)
    except OSError as exc:
        raise MediaError(p, f"cannot read the file ({exc.strerror or exc})") from None
    if isinstance(fmt, str):
        raise MediaError(p, fmt)
    return MediaFile(p, st.st_size, fmt)


def sha256_file(path: str | os.PathLike, *, chunk_bytes: int = CHUNK_BYTES) -> str:
    """Return the hex SHA-256 of a file, read in chunks (constant memory).

    Raises
    ------
    MediaError
        The file cannot be read.
    """
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while block := f.read(chunk_bytes):
                digest.update(block)
    except OSError as exc:
        raise MediaError(path, f"cannot read the file ({exc.strerror or exc})") from None
    return digest.hexdigest()


class MediaBody:
    """The ``multipart/form-data`` body with one file part, ``mediaFile``, streamed from disk.

    Parameters
    ----------
    media
        A checked recording (see `check_media`).
    progress
        Optional ``progress(sent_bytes, total_bytes)`` callback, called once per chunk.
    """

    def __init__(self, media: MediaFile, progress: Progress | None = None) -> None:
        self.media = media
        self.progress = progress
        self.boundary = "gong-diarize-" + secrets.token_hex(16)
        filename = _safe_stem(media.path.stem) + "." + media.format.extension
        self._head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="mediaFile"; filename="{filename}"\r\n'
            f"Content-Type: {media.format.mime_type}\r\n\r\n"
        ).encode("ascii")
        self._tail = f"\r\n--{self.boundary}--\r\n".encode("ascii")
        self.filename = filename

    @property
    def content_type(self) -> str:
        """The request's ``Content-Type`` header value."""
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def content_length(self) -> int:
        """The exact body size in bytes (sent as ``Content-Length``, never chunked)."""
        return len(self._head) + self.media.size_bytes + len(self._tail)

    def __iter__(self) -> Iterator[bytes]:
        """Yield the body; each iteration reopens the file, so a retry sends it whole again."""
        total = self.media.size_bytes
        sent = 0
        yield self._head
        try:
            with self.media.path.open("rb") as f:
                while sent < total:
                    block = f.read(min(CHUNK_BYTES, total - sent))
                    if not block:
                        raise MediaError(self.media.path, "the file shrank while uploading")
                    sent += len(block)
                    yield block
                    if self.progress is not None:
                        self.progress(sent, total)
                if f.read(1):
                    raise MediaError(self.media.path, "the file grew while uploading")
        except OSError as exc:
            raise MediaError(self.media.path, f"read failed while uploading ({exc})") from None
        yield self._tail


def _safe_stem(stem: str) -> str:
    """An ASCII file name stem that needs no quoting in a Content-Disposition header."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")
    return cleaned[:100] or "recording"
