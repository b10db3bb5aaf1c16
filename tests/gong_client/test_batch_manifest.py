"""Batch manifests: the CSV column convention, line-numbered errors, JSONL and folders,
``--dry-run``, and memory that does not grow with the manifest's length."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gong_client.batch import BatchError
from gong_client.batch.manifest import BadRow, Row, read_manifest
from gong_client.cli import app
from tests.gong_client.helpers import write_audio

ROOT = Path(__file__).resolve().parents[2]
DIALER_HEADER = (
    "Recording,Call ID,Actual Start,Direction,Title,Agent User ID,Agent Email,Agent Name,"
    "Agent Channel,Customer Name,Customer Phone,Duration,Language,Queue\n"
)
GOOD_ROW = (
    "rec/0001.wav,pbx-0001,2024-05-14 15:32:07-07:00,out,Renewal follow-up,234599484848423,"
    "dana@example.com,Dana Whitfield,left,Sam Okafor,+1 212-555-0199,4:05,en-US,renewals\n"
)


def _csv(folder: Path, *rows: str, header: str = DIALER_HEADER) -> Path:
    (folder / "rec").mkdir(exist_ok=True)
    write_audio(folder / "rec" / "0001.wav")
    path = folder / "calls.csv"
    path.write_text(header + "".join(rows))
    return path


def test_a_dialer_row_becomes_call_json(tmp_path: Path) -> None:
    [row] = list(read_manifest(_csv(tmp_path, GOOD_ROW)))
    assert isinstance(row, Row) and row.line == 2
    assert row.audio == tmp_path / "rec" / "0001.wav"
    assert row.call == {
        "actualStart": "2024-05-14T15:32:07-07:00",
        "direction": "Outbound",
        "primaryUser": "234599484848423",
        "clientUniqueId": "pbx-0001",
        "title": "Renewal follow-up",
        "languageCode": "en-US",
        "duration": 245.0,
        "parties": [
            {
                "userId": "234599484848423",
                "name": "Dana Whitfield",
                "emailAddress": "dana@example.com",
                "mediaChannelId": 0,
            },
            {"name": "Sam Okafor", "phoneNumber": "+1 212-555-0199"},
        ],
    }


def test_header_names_match_in_any_spelling(tmp_path: Path) -> None:
    header = "recordingPath,actual_start,REP USER ID,rep-channel,customerEmail\n"
    row = "rec/0001.wav,2024-05-14T22:32:07Z,42,Right,sam@example.com\n"
    [entry] = list(read_manifest(_csv(tmp_path, row, header=header)))
    assert isinstance(entry, Row)
    assert entry.call["direction"] == "Unknown"  # not given
    assert entry.call["actualStart"] == "2024-05-14T22:32:07+00:00"
    assert entry.call["parties"] == [
        {"userId": "42", "mediaChannelId": 1},
        {"emailAddress": "sam@example.com"},
    ]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (("2024-05-14 15:32:07-07:00", "2024-05-14 15:32:07"), "actual_start", "UTC offset"),
        (("2024-05-14 15:32:07-07:00", "yesterday"), "actual_start", "ISO 8601"),
        ((",out,", ",sideways,"), "direction", "'sideways'"),
        ((",left,", ",middle,"), "rep_channel", "'middle'"),
        ((",4:05,", ",long,"), "duration", "'long'"),
        ((",en-US,", ",klingon,"), "language", "klingon"),
        (("rec/0001.wav", "rec/nope.wav"), "audio", "file not found"),
        ((",234599484848423,", ",,"), "rep_user_id", "empty"),
    ],
)
def test_a_bad_value_is_reported_with_its_line_and_column(
    tmp_path: Path, change: tuple[str, str], field: str, words: str
) -> None:
    bad = GOOD_ROW.replace(*change)
    entries = list(read_manifest(_csv(tmp_path, GOOD_ROW, bad, GOOD_ROW)))
    assert [type(e) for e in entries] == [Row, BadRow, Row]  # the others go on
    error = entries[1].error
    assert error.startswith(f"calls.csv line 3: {field}: "), error
    assert words in error


def test_a_csv_without_a_required_column_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "rec/0001.wav\n", header="Recording\n")
    with pytest.raises(BatchError, match=r"calls.csv line 1: actual_start: required column"):
        list(read_manifest(path))


def test_jsonl_and_folder_manifests(tmp_path: Path) -> None:
    write_audio(tmp_path / "a.wav")
    write_audio(tmp_path / "b.flac", seed=1)
    call = {
        "actualStart": "2024-05-14T15:32:07Z",
        "direction": "Inbound",
        "primaryUser": "42",
        "parties": [{"userId": "42"}],
    }
    (tmp_path / "a.json").write_text(json.dumps(call))
    manifest = tmp_path / "calls.jsonl"
    manifest.write_text(
        json.dumps({"audio": "a.wav", "call": "a.json"})
        + "\n\n{not json\n"
        + json.dumps({"audio": "b.flac", "call": {**call, "direction": "Sideways"}})
        + "\n"
        + json.dumps({"audio": "b.flac"})
        + "\n"
    )
    entries = list(read_manifest(manifest))
    assert isinstance(entries[0], Row) and entries[0].call == call
    assert [e.error.split(":")[0:2] for e in entries[1:]] == [
        ["calls.jsonl line 3", " line"],
        ["calls.jsonl line 4", " call.direction"],
        ["calls.jsonl line 5", " call"],
    ]
    folder = list(read_manifest(tmp_path))
    assert isinstance(folder[0], Row) and folder[0].audio.name == "a.wav"
    assert isinstance(folder[1], BadRow) and "no call JSON beside it (b.json)" in folder[1].error


def test_dry_run_prints_a_manifest_of_the_valid_rows(tmp_path: Path) -> None:
    bad = GOOD_ROW.replace("2024-05-14 15:32:07-07:00", "2024-05-14 15:32:07")
    path = _csv(tmp_path, GOOD_ROW, bad)
    result = CliRunner().invoke(app, ["batch", str(path), "--dry-run"])
    assert result.exit_code == 1
    [line] = result.stdout.splitlines()
    item = json.loads(line)
    assert item["audio"] == str(tmp_path / "rec" / "0001.wav")
    assert item["call"]["clientUniqueId"] == "pbx-0001"
    assert "calls.csv line 3: actual_start:" in result.stderr
    assert "1 calls ready, 1 row with problems" in result.stderr
    # what it prints is itself a manifest
    (tmp_path / "again.jsonl").write_text(result.stdout)
    [again] = list(read_manifest(tmp_path / "again.jsonl"))
    assert isinstance(again, Row) and again.call == item["call"]


def _dry_run_peak_kib(folder: Path, rows: int) -> int:
    """Peak memory (KiB) of `gong-diarize batch --dry-run` over a CSV of `rows` rows."""
    path = folder / f"calls-{rows}.csv"
    with path.open("w") as stream:
        stream.write(DIALER_HEADER)
        for i in range(rows):
            stream.write(GOOD_ROW.replace("pbx-0001", f"pbx-{i:07d}"))
    script = (
        "import resource, sys\n"
        "from gong_client.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, code, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "batch", str(path), "--dry-run", "-q"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    peak, code = done.stderr.split()[-2:]
    assert code in ("None", "0"), done.stderr
    return int(peak)


def _memory_does_not_grow(tmp_path: Path, rows: int) -> None:
    write_audio(_csv(tmp_path, GOOD_ROW).parent / "rec" / "0001.wav")
    small = _dry_run_peak_kib(tmp_path, 2_000)
    large = _dry_run_peak_kib(tmp_path, rows)
    # a row held in memory would cost well over 100 bytes: 1e5 rows would show as 10 MB
    assert large - small < 8 * 1024, (small, large)


def test_dry_run_memory_does_not_grow_with_the_manifest(tmp_path: Path) -> None:
    _memory_does_not_grow(tmp_path, 100_000)


@pytest.mark.slow
def test_dry_run_of_a_million_rows_in_bounded_memory(tmp_path: Path) -> None:
    _memory_does_not_grow(tmp_path, 1_000_000)


assert resource  # (imported for the child's measurement above)
