"""The emulator as a plain HTTP server: Gong's error shape, limits, storage and read-backs."""

from __future__ import annotations

import httpx
import pytest

from gong_client.emulator import EmulatorConfig, EmulatorServer
from gong_client.emulator._state import Faults
from tests.gong_client.helpers import (
    KEY,
    SECRET,
    away_from_utc_midnight,
    make_call,
    read_back,
    write_audio,
)

AUTH = (KEY, SECRET)


def _post(server, body, **kw) -> httpx.Response:
    return httpx.post(f"{server.base_url}/v2/calls", json=body, auth=AUTH, **kw)


def _assert_gong_error(response: httpx.Response, status: int) -> list[str]:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"requestId", "errors"}
    assert len(body["requestId"]) == 19 and body["requestId"].isalnum()
    assert body["errors"] and all(isinstance(e, str) for e in body["errors"])
    return body["errors"]


def test_valid_call_is_created(emulator) -> None:
    response = _post(emulator, make_call("e-1"))
    assert response.status_code == 200
    assert set(response.json()) == {"requestId", "callId"}
    assert response.json()["callId"].isdigit()


def test_schema_problems_are_listed_with_their_paths(emulator) -> None:
    body = make_call("e-2", direction="Sideways")
    del body["primaryUser"]
    errors = _assert_gong_error(_post(emulator, body), 400)
    assert any(e.startswith("$.direction") for e in errors)
    assert any("primaryUser" in e for e in errors)


def test_malformed_json_and_wrong_content_type(emulator) -> None:
    url = f"{emulator.base_url}/v2/calls"
    bad_json = httpx.post(
        url, content=b"{nope", auth=AUTH, headers={"content-type": "application/json"}
    )
    assert "malformed JSON" in _assert_gong_error(bad_json, 400)[0]
    form = httpx.post(url, data={"a": "b"}, auth=AUTH)
    assert "application/json" in _assert_gong_error(form, 400)[0]


def test_missing_auth_is_401(emulator) -> None:
    response = httpx.post(f"{emulator.base_url}/v2/calls", json=make_call("e-3"))
    assert "Authorization" in _assert_gong_error(response, 401)[0]


def test_repeated_client_unique_id_is_a_conflict(emulator) -> None:
    assert _post(emulator, make_call("e-4")).status_code == 200
    assert "e-4" in _assert_gong_error(_post(emulator, make_call("e-4")), 409)[0]


def test_company_limit_per_second_answers_429_with_retry_after(start_emulator) -> None:
    server = start_emulator(limit_per_s=3)
    responses = [_post(server, make_call(f"burst-{i}")) for i in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    assert responses[3].headers["Retry-After"] == "1"
    _assert_gong_error(responses[3], 429)


def test_daily_limit_answers_429_until_midnight(start_emulator) -> None:
    away_from_utc_midnight()
    server = start_emulator(daily_limit=1)
    assert _post(server, make_call("d-1")).status_code == 200
    refused = _post(server, make_call("d-2"))
    _assert_gong_error(refused, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 86400


def test_unknown_or_malformed_call_ids_never_touch_the_disk(start_emulator, tmp_path) -> None:
    emulator = start_emulator(limit_per_s=20)
    audio = write_audio(tmp_path / "a.wav")
    before = sorted(p.name for p in emulator.config.data_dir.rglob("*"))
    for call_id in ("999", "abc", "%2E%2E", "1" * 25):
        response = httpx.put(
            f"{emulator.base_url}/v2/calls/{call_id}/media",
            files={"mediaFile": ("a.wav", audio.read_bytes(), "audio/wav")},
            auth=AUTH,
        )
        _assert_gong_error(response, 404)
    assert sorted(p.name for p in emulator.config.data_dir.rglob("*")) == before


def test_media_must_be_multipart_with_a_media_file_part(emulator, tmp_path) -> None:
    call_id = _post(emulator, make_call("m-1")).json()["callId"]
    url = f"{emulator.base_url}/v2/calls/{call_id}/media"
    raw = httpx.put(url, content=b"RIFF....", auth=AUTH, headers={"content-type": "audio/wav"})
    assert "multipart" in _assert_gong_error(raw, 400)[0]
    wrong_name = httpx.put(url, files={"file": ("a.wav", b"RIFF")}, auth=AUTH)
    assert "mediaFile" in _assert_gong_error(wrong_name, 400)[0]


def test_media_for_a_download_url_call_is_refused(emulator, tmp_path) -> None:
    body = make_call("u-1", downloadMediaUrl="https://rec.example.com/u-1.wav")
    call_id = _post(emulator, body).json()["callId"]
    audio = write_audio(tmp_path / "a.wav")
    response = httpx.put(
        f"{emulator.base_url}/v2/calls/{call_id}/media",
        files={"mediaFile": ("a.wav", audio.read_bytes(), "audio/wav")},
        auth=AUTH,
    )
    assert "downloadMediaUrl" in _assert_gong_error(response, 400)[0]


def test_second_media_put_replaces_the_first(emulator, tmp_path) -> None:
    call_id = _post(emulator, make_call("r-1")).json()["callId"]
    url = f"{emulator.base_url}/v2/calls/{call_id}/media"
    for seed in (1, 2):
        audio = write_audio(tmp_path / f"{seed}.wav", seed=seed)
        response = httpx.put(url, files={"mediaFile": ("a.wav", audio.read_bytes())}, auth=AUTH)
        assert response.status_code == 201
    media = emulator.emulator.store.get(call_id)["media"]
    assert media["uploads"] == 2 and media["bytes"] == audio.stat().st_size
    assert sorted(p.name for p in (emulator.config.data_dir / "media").iterdir()) == [
        f"{call_id}.wav"
    ]


def test_listing_by_date_range_with_cursor_paging(start_emulator) -> None:
    server = start_emulator(page_size=2, limit_per_s=20)
    for i in range(5):
        _post(server, make_call(f"l-{i}", second=i))
    _post(server, make_call("outside", actualStart="2030-01-01T00:00:00Z"))
    query = {"fromDateTime": "2024-05-14T22:32:00Z", "toDateTime": "2024-05-14T22:33:00Z"}
    seen, pages = [], 0
    while True:
        response = httpx.get(f"{server.base_url}/v2/calls", params=query, auth=AUTH)
        assert response.status_code == 200
        body = response.json()
        seen += [c["clientUniqueId"] for c in body["calls"]]
        pages += 1
        if "cursor" not in body["records"]:
            break
        query["cursor"] = body["records"]["cursor"]
    assert seen == [f"l-{i}" for i in range(5)] and pages == 3
    empty = {"fromDateTime": "2001-01-01T00:00:00Z", "toDateTime": "2001-01-02T00:00:00Z"}
    _assert_gong_error(httpx.get(f"{server.base_url}/v2/calls", params=empty, auth=AUTH), 404)
    naive = {"fromDateTime": "2024-05-14T22:32:00", "toDateTime": "2024-05-14T22:33:00Z"}
    _assert_gong_error(httpx.get(f"{server.base_url}/v2/calls", params=naive, auth=AUTH), 400)


def test_calls_survive_a_restart_on_the_same_data_dir(tmp_path) -> None:
    config = EmulatorConfig(tmp_path / "data", access_keys={KEY: SECRET})
    with EmulatorServer(config) as first:
        call_id = _post(first, make_call("keep")).json()["callId"]
    with EmulatorServer(config) as second:
        assert read_back(second.base_url, f"calls/{call_id}")["callId"] == call_id
        _assert_gong_error(_post(second, make_call("keep")), 409)


def test_request_log_records_timing_status_and_faults(start_emulator) -> None:
    server = start_emulator(fail_rate=0.5, seed=11, limit_per_s=20)
    for i in range(6):
        _post(server, make_call(f"log-{i}"))
    log = read_back(server.base_url, "requests")["requests"]
    assert [r["seq"] for r in log] == list(range(1, 7))
    times = [r["receivedMonotonicS"] for r in log]
    assert times == sorted(times)
    assert {r["status"] for r in log if r["fault"] == "fail"} <= {500}
    assert any(r["fault"] == "fail" for r in log) and any(r["fault"] is None for r in log)


def test_fault_draws_are_seeded(tmp_path) -> None:
    config = EmulatorConfig(tmp_path, fail_rate=0.3, drop_rate=0.2, throttle_rate=0.1, seed=4)
    sequences = [Faults(config), Faults(config)]
    draws = [[faults.draw() for _ in range(50)] for faults in sequences]
    assert draws[0] == draws[1]
    kinds = {d.kind for d in draws[0]}
    assert kinds == {None, "fail", "drop", "throttle"}


def test_unknown_routes_answer_in_gong_shape(emulator) -> None:
    _assert_gong_error(httpx.get(f"{emulator.base_url}/v2/nothing"), 404)
    _assert_gong_error(httpx.delete(f"{emulator.base_url}/v2/calls"), 405)


@pytest.mark.parametrize(
    "bad", [{"fail_rate": 1.5}, {"fail_rate": 0.6, "drop_rate": 0.6}, {"limit_per_s": 0}]
)
def test_impossible_settings_are_refused(bad, tmp_path) -> None:
    with pytest.raises(ValueError):
        EmulatorConfig(tmp_path, **bad)


def test_config_repr_hides_the_secrets(tmp_path) -> None:
    config = EmulatorConfig(tmp_path, access_keys={KEY: SECRET}, bearer_tokens=frozenset({"t0k"}))
    assert SECRET not in repr(config) and "t0k" not in repr(config)
