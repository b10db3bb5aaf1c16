"""GongClient's upload flow end to end against the emulator."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from gong_client import InvalidCallError, NotFoundError
from gong_client.client import derive_client_unique_id
from tests.gong_client.helpers import (
    logged_requests,
    make_call,
    sha256_of,
    stored_calls,
    write_audio,
)


def test_upload_call_creates_the_call_and_its_media(emulator, make_client, tmp_path) -> None:
    audio = write_audio(tmp_path / "call.flac", seconds=2)
    call = make_call("pbx-42", customData="queue=renewals")
    result = make_client(emulator).upload_call(audio, call)
    assert result.url == f"{emulator.base_url}/emulator/calls/{result.call_id}"  # not Gong's
    assert result.to_dict() == {"callId": result.call_id, "url": result.url}
    (stored,) = stored_calls(emulator.base_url)
    assert stored["callId"] == result.call_id and stored["call"] == call
    assert stored["media"]["sha256"] == sha256_of(audio) and stored["media"]["uploads"] == 1
    assert [r["method"] for r in logged_requests(emulator.base_url)] == ["POST", "PUT"]


def test_missing_client_unique_id_is_derived_from_the_content(
    emulator, make_client, tmp_path
) -> None:
    audio = write_audio(tmp_path / "a.wav")
    copy = tmp_path / "renamed-copy.wav"
    copy.write_bytes(audio.read_bytes())
    client = make_client(emulator)
    first = client.upload_call(audio, make_call(None))
    assert first.client_unique_id == f"sha256-{sha256_of(audio)}"
    second = client.upload_call(copy, make_call(None, second=30))  # same bytes, other name
    assert second.already_uploaded and second.call_id == first.call_id
    assert len(stored_calls(emulator.base_url)) == 1


def test_derived_ids_differ_for_different_recordings(tmp_path) -> None:
    a = write_audio(tmp_path / "a.wav", seed=1)
    b = write_audio(tmp_path / "b.wav", seed=2)
    assert derive_client_unique_id(a, {}) != derive_client_unique_id(b, {})
    url_call = {"downloadMediaUrl": "https://rec.example.com/1.wav"}
    assert derive_client_unique_id(a, url_call).startswith("url-sha256-")


def test_download_media_url_skips_the_media_step(emulator, make_client) -> None:
    call = make_call("by-url", downloadMediaUrl="https://recordings.example.com/2024/000187.wav")
    client = make_client(emulator)
    result = client.upload_call(None, call)
    assert result.url is None and result.call_id
    assert [r["method"] for r in logged_requests(emulator.base_url)] == ["POST"]
    assert client.upload_call(None, call).already_uploaded
    assert len(logged_requests(emulator.base_url)) == 1


def test_invalid_call_is_refused_before_anything_is_sent(emulator, make_client, tmp_path) -> None:
    audio = write_audio(tmp_path / "a.wav")
    bad = make_call("bad", actualStart="2024-05-14T15:32:08", direction="Sideways")
    with pytest.raises(InvalidCallError) as caught:
        make_client(emulator).upload_call(audio, bad)
    paths = {p.path for p in caught.value.problems}
    assert {"$.actualStart", "$.direction"} <= paths
    assert logged_requests(emulator.base_url) == []


def test_add_call_needs_a_client_unique_id(emulator, make_client) -> None:
    with pytest.raises(InvalidCallError, match="clientUniqueId"):
        make_client(emulator).add_call(make_call(None))


def test_non_json_values_are_refused(emulator, make_client) -> None:
    with pytest.raises(InvalidCallError, match="not JSON"):
        make_client(emulator).add_call(make_call("nan", duration=float("nan")))


def test_media_for_an_unknown_call_is_not_found(emulator, make_client, tmp_path) -> None:
    audio = write_audio(tmp_path / "a.wav")
    with pytest.raises(NotFoundError) as caught:
        make_client(emulator).add_call_media("1234567890123456789", audio)
    assert caught.value.request_id == logged_requests(emulator.base_url)[0]["requestId"]


def test_call_ids_are_escaped_in_the_path(emulator, make_client, tmp_path) -> None:
    audio = write_audio(tmp_path / "a.wav")
    client = make_client(emulator)
    for odd in ("../../emulator/calls", "123?x=1"):
        with pytest.raises(NotFoundError):
            client.add_call_media(odd, audio)
    assert [r["path"] for r in logged_requests(emulator.base_url)] == ["/v2/calls/123%3Fx=1/media"]
    assert stored_calls(emulator.base_url) == []


def test_the_same_call_from_several_threads_is_created_once(
    start_emulator, make_client, tmp_path
) -> None:
    server = start_emulator(limit_per_s=10)
    audio = write_audio(tmp_path / "a.wav")
    client = make_client(server, rate_per_s=10)
    barrier = threading.Barrier(4)

    def upload(_: int):
        barrier.wait()
        return client.upload_call(audio, make_call("racy"))

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(upload, range(4)))
    assert len({r.call_id for r in results}) == 1
    assert sum(not r.already_uploaded for r in results) == 1
    assert [r["method"] for r in logged_requests(server.base_url)] == ["POST", "PUT"]


def test_audio_path_is_required_without_a_download_url(emulator, make_client) -> None:
    with pytest.raises(ValueError, match="audio_path"):
        make_client(emulator).upload_call(None, make_call("x"))
