"""Voiceprints: the store, Hungarian matching, enrolment from real speech, the enroll command."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import soundfile as sf
import typer
from typer.testing import CliRunner

from diarize.audio import open_audio
from diarize.cli import register
from diarize.errors import AudioLoadError, ConfigError
from diarize.voiceprints import (
    EMBEDDING_MODEL,
    Voiceprint,
    VoiceprintStore,
    default_store_dir,
    enroll,
    match_voiceprints,
    party_keys,
)
from tests.models.voices import SAMPLE_RATE, build_call, sample_voice


def _unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _print(key: str, vector: np.ndarray, model: str = EMBEDDING_MODEL) -> Voiceprint:
    return Voiceprint(key, vector, model, 12.5, ("a.wav",), "2026-01-01T00:00:00+00:00")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_store_round_trip_by_user_id_and_e_mail(tmp_path) -> None:
    store = VoiceprintStore(tmp_path / "prints")
    store.save(_print("rep@example.com", _unit(1, 2, 3)))
    store.save(_print("U123", _unit(3, 2, 1)))
    loaded = store.load("Rep@Example.COM ")
    assert loaded is not None and loaded.party_key == "rep@example.com"
    assert np.allclose(loaded.embedding, _unit(1, 2, 3), atol=1e-6)
    assert loaded.speech_s == 12.5 and loaded.sources == ("a.wav",)
    assert store.find({"userId": "U123", "emailAddress": "rep@example.com"}).party_key == "U123"
    assert store.find({"emailAddress": "REP@example.com"}).party_key == "rep@example.com"
    assert store.find({"userId": "nobody"}) is None
    assert store.find({"userId": "U123"}, model="another-model") is None
    files = sorted(p.name for p in (tmp_path / "prints").glob("*.json"))
    assert len(files) == 2 and all("@" not in name for name in files)


def test_narrowband_embedding_round_trips_and_older_prints_fall_back(tmp_path) -> None:
    store = VoiceprintStore(tmp_path / "prints")
    both = dataclasses.replace(_print("a@example.com", _unit(1, 0, 0)), narrowband=_unit(0, 2, 0))
    store.save(both)
    store.save(_print("old@example.com", _unit(0, 0, 1)))  # written without one
    loaded = store.load("a@example.com")
    assert np.allclose(loaded.for_recording(narrowband=True), _unit(0, 1, 0))
    assert np.allclose(loaded.for_recording(narrowband=False), _unit(1, 0, 0))
    old = store.load("old@example.com")
    assert old.narrowband is None
    assert np.allclose(old.for_recording(narrowband=True), _unit(0, 0, 1))


def test_saving_again_replaces_the_print(tmp_path) -> None:
    store = VoiceprintStore(tmp_path)
    store.save(_print("k", _unit(1, 0)))
    store.save(_print("k", _unit(0, 1)))
    assert np.allclose(store.load("k").embedding, _unit(0, 1))
    assert [p.suffix for p in tmp_path.iterdir() if p.name != ".lock"] == [".json"]


def test_malformed_store_files_are_config_errors(tmp_path) -> None:
    store = VoiceprintStore(tmp_path)
    path = store.save(_print("k", _unit(1, 0)))
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read voiceprint"):
        store.load("k")
    path.write_text(json.dumps({"partyKey": "k", "model": "m"}), encoding="utf-8")
    with pytest.raises(ConfigError, match="not a valid voiceprint"):
        store.load("k")
    other = _print("someone-else", _unit(1, 0)).to_dict()
    path.write_text(json.dumps(other), encoding="utf-8")
    with pytest.raises(ConfigError, match="another key"):
        store.load("k")


def test_party_keys_and_default_folder() -> None:
    assert party_keys({"userId": " 42 ", "emailAddress": "A@B.com"}) == ["42", "a@b.com"]
    assert party_keys({"name": "Bob"}) == []
    assert default_store_dir().name == "voiceprints"
    assert "gong-diarize" in str(default_store_dir())


def test_matching_maximises_the_total_similarity() -> None:
    """Similarities s1-A 0.60, s1-B 0.55, s2-A 0.58, s2-B 0.00: greedy takes s1-A and leaves
    s2 unmatched; the best total pairs s1-B and s2-A, both above the threshold."""
    speakers = {
        "s1": np.array([0.6, 0.55, np.sqrt(1 - 0.6**2 - 0.55**2)], dtype=np.float32),
        "s2": np.array([0.58, 0.0, np.sqrt(1 - 0.58**2)], dtype=np.float32),
    }
    prints = {"A": _unit(1, 0, 0), "B": _unit(0, 1, 0)}
    pairs = {s: (p, round(score, 2)) for s, p, score in match_voiceprints(speakers, prints, 0.5)}
    assert pairs == {"s1": ("B", 0.55), "s2": ("A", 0.58)}


def test_matching_keeps_only_pairs_above_the_threshold() -> None:
    speakers = {"s1": _unit(1, 0), "s2": _unit(0, 1)}
    prints = {"A": _unit(1, 0.1), "B": _unit(-1, 0.2)}
    assert [(s, p) for s, p, _ in match_voiceprints(speakers, prints, 0.5)] == [("s1", "A")]
    assert match_voiceprints({}, prints, 0.5) == []
    assert match_voiceprints(speakers, {}, 0.5) == []


def _write_turns(path, voice) -> None:
    sf.write(path, np.concatenate(voice.turns), SAMPLE_RATE)


def test_enrolment_recognises_the_same_voice_in_other_turns(tmp_path, diarizer) -> None:
    """Enrol each sample speaker from half of their turns; compare with the other half."""
    halves = {}
    for label in ("speaker90", "speaker91"):
        enrol, rest = sample_voice(label).split(enrol_s=4.0)
        _write_turns(tmp_path / f"{label}.wav", enrol)
        enroll(label, [tmp_path / f"{label}.wav"], tmp_path / "store", diarizer=diarizer)
        halves[label] = rest
    store = VoiceprintStore(tmp_path / "store")
    threshold = diarizer.config.voiceprints.threshold
    for label, rest in halves.items():
        waveform, _ = build_call([rest], [0] * len(rest.turns))
        vector, seconds = diarizer.dominant_voice(open_audio(waveform, SAMPLE_RATE))
        assert vector is not None and seconds > 2.0
        own = float(vector @ store.load(label).embedding)
        other = "speaker91" if label == "speaker90" else "speaker90"
        theirs = float(vector @ store.load(other).embedding)
        assert own >= threshold > theirs, (label, own, theirs)
        assert store.load(label).narrowband is not None


def test_enrolment_from_several_files_records_their_names(tmp_path, diarizer) -> None:
    voice = sample_voice("speaker90")
    first, second = voice.split(enrol_s=3.0)
    _write_turns(tmp_path / "one.wav", first)
    _write_turns(tmp_path / "two.wav", second)
    seen: list[tuple] = []
    path = enroll(
        "Rep@Example.com",
        [tmp_path / "one.wav", tmp_path / "two.wav"],
        tmp_path,
        hook=lambda *report: seen.append(report),
    )
    total = round(sum(sf.info(tmp_path / name).duration for name in ("one.wav", "two.wav")))
    assert seen[0] == ("enroll", 0, total) and seen[-1] == ("enroll", total, total)
    done = [completed for _, completed, _ in seen]
    assert done == sorted(done) and len(set(done)) > 2  # progress within and across files
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["partyKey"] == "rep@example.com"
    assert data["sources"] == ["one.wav", "two.wav"]
    assert data["model"] == EMBEDDING_MODEL and data["speechSeconds"] > 6.0
    assert abs(np.linalg.norm(data["embedding"]) - 1.0) < 1e-3


def test_too_little_speech_and_unreadable_files_are_clear_errors(tmp_path, diarizer) -> None:
    short = tmp_path / "short.wav"
    sf.write(short, sample_voice("speaker91").turns[-1], SAMPLE_RATE)
    with pytest.raises(AudioLoadError, match="short.wav: only .* of speech") as caught:
        enroll("k", [short], tmp_path / "store", diarizer=diarizer)
    assert "\n" not in str(caught.value)
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("hello", encoding="utf-8")
    with pytest.raises(AudioLoadError, match="notes.wav"):
        enroll("k", [not_audio], tmp_path / "store", diarizer=diarizer)
    assert not (tmp_path / "store").exists()


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_enroll_command_writes_a_voiceprint(tmp_path) -> None:
    voice = sample_voice("speaker90")
    _write_turns(tmp_path / "rep1.wav", voice)
    store = tmp_path / "store"
    result = CliRunner().invoke(
        _app(),
        ["enroll", "--party", "rep@company.com", str(tmp_path / "rep1.wav"), "--store", str(store)],
    )
    assert result.exit_code == 0, result.output
    assert VoiceprintStore(store).load("rep@company.com") is not None


def test_enroll_command_fails_on_one_line_without_traceback(tmp_path) -> None:
    bad = tmp_path / "rep1.wav"
    bad.write_bytes(b"RIFF....WAVEjunk")
    result = CliRunner().invoke(
        _app(), ["enroll", "--party", "rep@company.com", str(bad), "--store", str(tmp_path / "s")]
    )
    assert result.exit_code == 1
    assert "rep1.wav" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "s").exists()


# --- the store as biometric data: private, shared safely, one file per key and model ---


def _learned(key: str, vector: np.ndarray, call: str) -> Voiceprint:
    return Voiceprint.first_learned(
        key, vector, narrow_vector=vector, seconds=20.0, band="wideband", call=call
    )


def test_store_is_private_and_prints_never_show_their_vectors(tmp_path) -> None:
    store = VoiceprintStore(tmp_path / "prints")
    path = store.save(_learned("rep@example.com", _unit(1, 2, 3), "call-1"))
    assert (tmp_path / "prints").stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600
    print_ = store.load("rep@example.com")
    assert "0.26" not in repr(print_) and "embedding" not in repr(print_)
    assert "embedding" not in json.dumps(print_.provenance())
    assert print_.provenance()["learnedCalls"] == 1
    assert print_.provenance()["bands"] == {"wideband": 1, "telephone": 0}


def test_prints_of_another_model_are_kept_apart(tmp_path) -> None:
    store = VoiceprintStore(tmp_path)
    store.save(_print("k", _unit(1, 0), model="other-model-2"))
    assert store.load("k") is None and store.find({"userId": "k"}) is None
    store.save(_print("k", _unit(0, 1)))
    assert np.allclose(store.load("k").embedding, _unit(0, 1))
    assert np.allclose(store.load("k", "other-model-2").embedding, _unit(1, 0))
    assert store.forget("k") == 2 and store.prints() == []


def test_learning_is_a_running_speech_weighted_aggregate() -> None:
    first = _learned("k", _unit(1, 0, 0), "c1")
    second = first.learned(_unit(0, 1, 0), _unit(0, 1, 0), 60.0, "wideband", "c2")
    assert second.learned_calls == 2 and second.learned_s == 80.0
    assert np.allclose(second.embedding, _unit(1, 3, 0), atol=1e-6)  # 20 s vs 60 s
    phone = second.learned(_unit(0, 0, 1), None, 80.0, "telephone", "c3")
    assert np.allclose(phone.embedding, second.embedding)  # the full band is untouched
    assert np.allclose(phone.narrowband, _unit(1, 3, np.sqrt(10)), atol=1e-6)  # 80 s each
    assert phone.bands() == {"wideband": 2, "telephone": 1}
    assert [h["call"] for h in phone.history] == ["c1", "c2", "c3"]
    only_phone = Voiceprint.first_learned(
        "p", _unit(0, 1), narrow_vector=None, seconds=9.0, band="telephone", call="c"
    )
    assert np.allclose(only_phone.embedding, _unit(0, 1)) and only_phone.speech_s == 0.0


def _add_one(store: VoiceprintStore, call: str):
    def change(current):
        if current is None:
            return _learned("rep", _unit(1, 1), call)
        return current.learned(_unit(1, 1), _unit(1, 1), 20.0, "wideband", call)

    return store.update("rep", change)


def test_threads_updating_one_print_lose_no_update(tmp_path) -> None:
    import threading

    store = VoiceprintStore(tmp_path)
    threads = [
        threading.Thread(target=lambda i=i: [_add_one(store, f"t{i}-{n}") for n in range(5)])
        for i in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.load("rep").learned_calls == 30


_WORKER = """
import sys
import numpy as np
from diarize.voiceprints import Voiceprint, VoiceprintStore
store = VoiceprintStore(sys.argv[1])
vector = np.ones(192, dtype=np.float32)
def change(current):
    if current is None:
        return Voiceprint.first_learned("rep@example.com", vector, narrow_vector=vector,
                                        seconds=10.0, band="wideband", call=sys.argv[2] + "-0")
    return current.learned(vector, vector, 10.0, "wideband", sys.argv[2])
for n in range(int(sys.argv[3])):
    store.update("rep@example.com", change)
"""


def test_processes_learning_at_once_lose_no_update(tmp_path) -> None:
    """Four processes add 8 calls each to the same print at the same time."""
    import subprocess
    import sys

    workers = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(tmp_path / "store"), f"w{i}", "8"])
        for i in range(4)
    ]
    assert [w.wait(timeout=120) for w in workers] == [0] * 4
    print_ = VoiceprintStore(tmp_path / "store").load("rep@example.com")
    assert print_.learned_calls == 32 and print_.learned_s == 320.0
    assert [p.name for p in (tmp_path / "store").iterdir() if p.name.startswith(".vp.")] == []


def test_voiceprints_command_lists_shows_exports_imports_and_forgets(tmp_path) -> None:
    store = tmp_path / "store"
    VoiceprintStore(store).save(_learned("Rep@Example.com", _unit(1, 2, 3), "call-9"))
    VoiceprintStore(store).save(_print("U42", _unit(3, 2, 1)))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(_app(), ["voiceprints", *args, "--store", str(store)])

    listed = run("list")
    assert listed.exit_code == 0, listed.output
    assert "rep@example.com" in listed.output and "learned from 1 call" in listed.output
    assert "U42" in listed.output
    shown = run("show", "REP@example.com")
    assert shown.exit_code == 0 and '"learnedCalls": 1' in shown.output
    assert "embedding" not in shown.output.lower()
    exported = tmp_path / "prints.json"
    assert run("export", str(exported)).exit_code == 0
    assert exported.stat().st_mode & 0o777 == 0o600
    assert run("forget", "rep@example.com").exit_code == 0
    assert VoiceprintStore(store).load("rep@example.com") is None
    missing = run("forget", "rep@example.com")
    assert missing.exit_code == 1 and "no voiceprint" in missing.output
    assert run("import", str(exported)).exit_code == 0
    back = VoiceprintStore(store).load("rep@example.com")
    assert back is not None and back.learned_calls == 1
    exported.write_text('{"voiceprints": [{"partyKey": "x"}]}', encoding="utf-8")
    bad = run("import", str(exported))
    assert bad.exit_code == 1 and "voiceprints[0]" in bad.output and "Traceback" not in bad.output
