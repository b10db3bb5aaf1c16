"""Receiving a ``multipart/form-data`` media upload chunk by chunk, straight to disk.

The body is never held in memory: python-multipart's push parser hands over slices of each
network chunk, the ``mediaFile`` part goes to a file as it arrives (hashed on the way), and
the upload is cut off as soon as it passes the size cap.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

__all__ = [
    "MediaSink",
    "Received",
    "UploadRejected",
    "boundary_of",
    "declared_length",
    "read_capped",
]

FIELD_LIMIT_BYTES = 64 * 1024


HEADER_LIMIT_BYTES = 8 * 1024


class UploadRejected(Exception):
    """The upload is malformed (400) or too large (413); the message goes into ``errors[]``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def declared_length(request: Request, limit_bytes: int) -> int | None:
    """The body's ``Content-Length``, checked against a cap before any of the body is read.

    Raises
    ------
    UploadRejected
        A malformed length (400), or one over `limit_bytes` (413).
    """
    text = request.headers.get("content-length")
    if text is None:
        return None
    if not text.strip().isdigit():
        raise UploadRejected("the Content-Length header is not a number")
    length = int(text)
    if length > limit_bytes:
        raise UploadRejected(f"the request body is over the {limit_bytes} byte limit", 413)
    return length


async def read_capped(request: Request, limit_bytes: int) -> bytes:
    """Read a whole body of at most `limit_bytes`: refused by its ``Content-Length`` before
    reading, or as soon as a body without one (chunked) passes the cap.

    Raises
    ------
    UploadRejected
        Too large (413), or a malformed ``Content-Length`` (400).
    """
    declared_length(request, limit_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit_bytes:
            raise UploadRejected(f"the request body is over the {limit_bytes} byte limit", 413)
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True)
class Received:
    """The ``mediaFile`` part as stored: size, SHA-256, and what the sender declared."""

    size_bytes: int
    sha256: str
    filename: str | None
    content_type: str | None


def boundary_of(content_type: str | None) -> bytes:
    """Return the boundary of a ``multipart/form-data`` content type.

    Raises
    ------
    UploadRejected
        Not multipart/form-data, or no boundary.
    """
    kind, options = parse_options_header(content_type or "")
    if kind != b"multipart/form-data":
        raise UploadRejected("the media must be sent as multipart/form-data")
    boundary = options.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise UploadRejected("the multipart/form-data content type has no usable boundary")
    return boundary


class MediaSink:
    """Feeds a multipart body to the parser and writes the ``mediaFile`` part to ``path``.

    Parameters
    ----------
    boundary
        From `boundary_of`.
    path
        Where the file part goes (created on the part's first header).
    max_bytes
        The cap on the file part; passing it raises `UploadRejected` at once.
    """

    def __init__(self, boundary: bytes, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._file: BinaryIO | None = None
        self._hash = hashlib.sha256()
        self._size = 0
        self._field_bytes = 0
        self._found: dict[str, str | None] | None = None
        self._headers: dict[str, str] = {}
        self._name, self._value = b"", b""
        self._in_media = False
        self._parts = 0
        callbacks = {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }
        self._parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]

    def feed(self, chunk: bytes) -> None:
        """Parse one chunk of the body."""
        try:
            self._parser.write(chunk)
        except UploadRejected:
            raise
        except Exception as exc:  # python-multipart raises its own and ValueError
            raise UploadRejected(f"malformed multipart body ({exc})") from None

    def finish(self) -> Received:
        """End the body and return the stored part.

        Raises
        ------
        UploadRejected
            The body ended early or had no ``mediaFile`` file part.
        """
        try:
            self._parser.finalize()
        except Exception as exc:
            raise UploadRejected(f"malformed multipart body ({exc})") from None
        self._close_file()
        if self._found is None:
            raise UploadRejected("the multipart body has no file part named 'mediaFile'")
        if self._in_media:
            raise UploadRejected("the multipart body ended inside the 'mediaFile' part")
        return Received(
            self._size, self._hash.hexdigest(), self._found["filename"], self._found["type"]
        )

    def discard(self) -> None:
        """Close and delete whatever was written."""
        self._close_file()
        self.path.unlink(missing_ok=True)

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > 16:
            raise UploadRejected("too many parts in the multipart body")
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]
        self._check_header()

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]
        self._check_header()

    def _check_header(self) -> None:
        if len(self._name) + len(self._value) > HEADER_LIMIT_BYTES:
            raise UploadRejected("a part header of the multipart body is too long")

    def _header_end(self) -> None:
        if len(self._headers) >= 32:
            raise UploadRejected("a part of the multipart body has too many headers")
        name = self._name.decode("latin-1").strip().lower()
        self._headers[name] = self._value.decode("latin-1").strip()
        self._name, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", ""))
        name = options.get(b"name", b"").decode("latin-1")
        filename = options.get(b"filename")
        if name == "mediaFile" and filename is not None and self._found is None:
            self._found = {
                "filename": filename.decode("utf-8", "replace"),
                "type": self._headers.get("content-type"),
            }
            self._file = self.path.open("wb")
            self._in_media = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_media:
            self._field_bytes += end - start
            if self._field_bytes > FIELD_LIMIT_BYTES:
                raise UploadRejected("form fields other than 'mediaFile' are too large")
            return
        self._size += end - start
        if self._size > self.max_bytes:
            raise UploadRejected(
                f"the media file is over the {self.max_bytes} byte (1.5 GB) limit", 413
            )
        piece = data[start:end]
        self._hash.update(piece)
        assert self._file is not None
        self._file.write(piece)

    def _part_end(self) -> None:
        if self._in_media:
            self._in_media = False
            self._close_file()
