"""Recordings judged by content, the streamed multipart body, and media uploads end to end."""

from __future__ import annotations

import io
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
import soundfile as sf

from gong_client import MAX_MEDIA_BYTES, BadRequestError, MediaError, check_media
from gong_client._media import CHUNK_BYTES, MediaBody
from gong_client._sniff import sniff_format
from gong_client.emulator._receive import MediaSink, boundary_of
from tests.gong_client.helpers import (
    KEY,
    SECRET,
    logged_requests,
    make_call,
    sha256_of,
    write_audio,
)

TONE = (0.1 * np.sin(np.arange(16000) * 0.05)).astype(np.float32)


def _encode(path: Path, container: str, codec: str, rate: int = 16000) -> Path:
    """Write a one-second tone with PyAV (MP4, M4A, MKV, WebM, MOV)."""
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        samples = (np.resize(TONE, rate)[None, :] * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return path


def _soundfile(path: Path, fmt: str) -> Path:
    sf.write(path, TONE, 16000, format=fmt)
    return path


ACCEPTED = {
    "wav": (lambda p: _soundfile(p, "WAV"), "WAV", "audio/wav"),
    "flac": (lambda p: _soundfile(p, "FLAC"), "FLAC", "audio/flac"),
    "mp3": (lambda p: _soundfile(p, "MP3"), "MP3", "audio/mpeg"),
    "mp4": (lambda p: _encode(p, "mp4", "aac"), "MP4", "video/mp4"),
    "m4a": (lambda p: _encode(p, "ipod", "aac"), "MP4", "audio/mp4"),
    "mkv": (lambda p: _encode(p, "matroska", "aac"), "MKV", "video/x-matroska"),
}


@pytest.mark.parametrize("kind", sorted(ACCEPTED))
def test_accepted_formats_are_told_by_content_not_name(kind: str, tmp_path: Path) -> None:
    build, name, mime = ACCEPTED[kind]
    path = build(tmp_path / f"recording.{kind}")
    misnamed = path.rename(tmp_path / "recording.dat")  # the name must not matter
    media = check_media(misnamed)
    assert (media.format.name, media.format.mime_type) == (name, mime)
    assert media.size_bytes == misnamed.stat().st_size


def test_id3_tagged_mp3_and_rf64_wav_are_accepted(tmp_path: Path) -> None:
    mp3 = _soundfile(tmp_path / "a.mp3", "MP3").read_bytes()
    tag = b"ID3\x04\x00\x00" + bytes([0, 0, 1, 0]) + b"\x00" * 128  # 128-byte tag body
    assert sniff_format(io.BytesIO(tag + mp3)).name == "MP3"
    wav = _soundfile(tmp_path / "a.wav", "WAV").read_bytes()
    rf64 = b"RF64" + b"\xff\xff\xff\xff" + wav[8:]
    assert sniff_format(io.BytesIO(rf64)).name == "WAV"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_text("speaker 1: hello\n" * 50), "text"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100), "PNG"),
        (lambda p: _soundfile(p, "OGG"), "Ogg"),
        (lambda p: _encode(p, "webm", "libopus", 48000), "webm"),
        (lambda p: _encode(p, "mov", "aac"), "QuickTime"),
        (lambda p: p.write_bytes(bytes(range(256)) * 40), "not WAV, MP3, MP4, MKV or FLAC"),
        (lambda p: p.write_bytes(b"\xff\xf1\x50\x80" + b"\x00" * 200), "AAC"),
    ],
    ids=["text", "png", "ogg", "webm", "mov", "binary", "adts"],
)
def test_other_content_is_refused_with_a_reason(make, reason: str, tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    make(path)
    with pytest.raises(MediaError, match=reason) as caught:
        check_media(path)
    assert str(caught.value).startswith(str(path))


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda p: None, "file not found"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.mkdir(), "not a regular file"),
    ],
)
def test_missing_empty_and_odd_paths(setup, reason: str, tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    setup(path)
    with pytest.raises(MediaError, match=reason):
        check_media(path)


def test_over_one_and_a_half_gigabytes_is_refused_before_sending(
    emulator, make_client, tmp_path: Path
) -> None:
    path = tmp_path / "huge.wav"
    header = _soundfile(tmp_path / "h.wav", "WAV").read_bytes()[:44]
    with path.open("wb") as f:  # sparse: a WAV header, then a hole up to the cap + 1 byte
        f.write(header)
        f.truncate(MAX_MEDIA_BYTES + 1)
    client = make_client(emulator)
    call_id = client.add_call(make_call("huge"))
    with pytest.raises(MediaError, match="1.5 GB"):
        client.add_call_media(call_id, path)
    assert [r["method"] for r in logged_requests(emulator.base_url)] == ["POST"]


def _parse(body: MediaBody, tmp_path: Path):
    sink = MediaSink(boundary_of(body.content_type), tmp_path / "parsed.bin", 10**9)
    sent = 0
    for chunk in body:
        assert len(chunk) <= CHUNK_BYTES + 1024
        sent += len(chunk)
        sink.feed(chunk)
    return sent, sink.finish(), (tmp_path / "parsed.bin").read_bytes()


def test_body_streams_the_file_in_chunks_with_an_exact_length(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "long.wav", seconds=200, sample_rate=8000)  # 3.2 MB
    seen: list[tuple[int, int]] = []
    body = MediaBody(check_media(path), progress=lambda s, t: seen.append((s, t)))
    sent, received, data = _parse(body, tmp_path)
    assert sent == body.content_length
    assert data == path.read_bytes() and received.content_type == "audio/wav"
    assert received.filename == "long.wav"
    size = path.stat().st_size
    assert len(seen) == -(-size // CHUNK_BYTES) and seen[-1] == (size, size)
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    again_sent, _, again = _parse(body, tmp_path)  # a retry reads the file afresh
    assert again_sent == sent and again == data


def test_file_name_follows_the_content(tmp_path: Path) -> None:
    path = _soundfile(tmp_path / "Call 12 (copy).mp3", "WAV")
    body = MediaBody(check_media(path))
    assert body.filename == "Call_12_copy.wav"


def test_file_that_shrinks_during_upload_is_a_media_error(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "a.wav", seconds=300)
    body = MediaBody(check_media(path))
    chunks = iter(body)
    next(chunks)
    next(chunks)
    with path.open("r+b") as f:
        f.truncate(CHUNK_BYTES + 10)
    with pytest.raises(MediaError, match="shrank"):
        list(chunks)


@pytest.mark.parametrize("kind", ["flac", "mp3", "mkv"])
def test_upload_stores_identical_bytes_with_a_matching_type(
    kind: str, emulator, make_client, tmp_path: Path
) -> None:
    build, name, mime = ACCEPTED[kind]
    path = build(tmp_path / f"rec.{kind}")
    client = make_client(emulator)
    result = client.upload_call(path, make_call(f"media-{kind}"))
    record = emulator.emulator.store.get(result.call_id)
    assert record["media"]["sha256"] == sha256_of(path)
    assert record["media"]["format"] == name
    assert record["media"]["declaredContentType"] == mime


def test_emulator_cuts_off_uploads_over_its_cap(start_emulator, make_client, tmp_path) -> None:
    server = start_emulator(max_media_bytes=200_000)
    path = write_audio(tmp_path / "big.wav", seconds=60)  # 960 kB
    client = make_client(server)
    call_id = client.add_call(make_call("over-cap"))
    with pytest.raises(BadRequestError, match="limit"):
        client.add_call_media(call_id, path)
    assert server.emulator.store.get(call_id)["media"] is None
    assert list((server.config.data_dir / "tmp").iterdir()) == []


def test_emulator_refuses_non_media_sent_around_the_client(emulator, make_client) -> None:
    call_id = make_client(emulator).add_call(make_call("raw"))
    files = {"mediaFile": ("call.wav", b"not audio at all, just words", "audio/wav")}
    response = httpx.put(
        f"{emulator.base_url}/v2/calls/{call_id}/media", files=files, auth=(KEY, SECRET)
    )
    assert response.status_code == 400
    assert "unsupported media" in response.json()["errors"][0]
    assert emulator.emulator.store.get(call_id)["media"] is None
