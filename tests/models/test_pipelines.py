"""Diarization pipelines: the offline default and pretrained ones from local directories.

The pretrained backend is exercised with directories assembled from the bundled weights: one
written by `export_pipeline_dir`, and one laid out like an offline clone of
``pyannote/speaker-diarization-community-1`` (stock pyannote class, VBx clustering, a PLDA
folder), so no test downloads anything.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml
from pyannote.audio.pipelines import SpeakerDiarization
from pyannote.core import SlidingWindow, SlidingWindowFeature

from diarize.errors import ModelLoadError
from models.config import load_config
from models.loader import load_model
from models.pipelines import (
    OfflineSpeakerDiarization,
    UnusedPLDA,
    build_offline_pipeline,
    export_pipeline_dir,
    load_pipeline,
    load_pretrained_pipeline,
    save_checkpoint,
    untrusted_code,
)
from tests.models.voices import sample_audio

EMBEDDING_DIM = 192


@pytest.fixture(scope="module")
def sample_file() -> dict:
    return {"waveform": torch.from_numpy(sample_audio())[None], "sample_rate": 16000}


@pytest.fixture(scope="module")
def offline():
    return build_offline_pipeline(device="cpu")


def test_offline_pipeline_carries_the_tuned_numbers(offline) -> None:
    config = load_config()
    assert isinstance(offline, OfflineSpeakerDiarization)
    assert offline.parameters(instantiated=True) == config.params.to_pyannote()
    assert offline.klustering == config.structure.clustering
    assert offline.segmentation_step == config.structure.segmentation_step


def test_speaker_count_from_soft_scores_needs_chunks_to_agree_on_a_second_speaker(
    offline, sample_file
) -> None:
    """Two chunks cover the same frames: one hears two speakers, the other one speaker and
    some doubt. pyannote's rounded binarized average (1.5) makes that overlap; the soft count
    (0.9 + 0.9 and 0.9 + 0.2: 1.45 on average) keeps one speaker."""
    offline.get_segmentations(sample_file)  # any file: sets this thread's scores
    frames = SlidingWindow(start=0.0, duration=0.1, step=0.1)
    chunks = SlidingWindow(start=0.0, duration=1.0, step=0.0001)  # both chunks cover 0-1 s
    scores = np.zeros((2, 10, 3), dtype=np.float32)
    scores[0, :, :2] = 0.9
    scores[1, :, 0], scores[1, :, 1] = 0.9, 0.2
    soft = SlidingWindowFeature(scores, chunks)
    binarized = SlidingWindowFeature((scores > 0.5).astype(np.float32), chunks)
    offline._scores.last = soft
    ours = offline.speaker_count(binarized, frames, warm_up=(0.0, 0.0))
    stock = SpeakerDiarization.speaker_count(binarized, frames, warm_up=(0.0, 0.0))
    assert stock.data[2:8].max() == 2
    assert ours.data[2:8].max() == 1 and ours.data[2:8].min() == 1


def test_offline_pipeline_finds_the_two_speakers_of_the_sample(offline, sample_file) -> None:
    output = offline(sample_file)
    assert len(output.speaker_diarization.labels()) == 2
    assert output.speaker_embeddings.shape == (2, EMBEDDING_DIM)


def test_exported_directory_loads_offline_and_gives_the_same_result(
    tmp_path, offline, sample_file
) -> None:
    directory = export_pipeline_dir(tmp_path / "offline-clone")
    assert (directory / "config.yaml").is_file()
    assert (directory / "segmentation" / "pytorch_model.bin").is_file()
    loaded = load_pretrained_pipeline(directory, device="cpu")
    assert loaded.parameters(instantiated=True) == offline.parameters(instantiated=True)
    ours = offline(sample_file).speaker_diarization
    theirs = loaded(sample_file).speaker_diarization
    assert list(ours.itertracks(yield_label=True)) == list(theirs.itertracks(yield_label=True))
    assert isinstance(load_pipeline(directory, device="cpu"), OfflineSpeakerDiarization)


def _identity_plda(folder, dimension: int, lda_dimension: int = 128) -> None:
    """A PLDA folder in pyannote's format whose transforms are (truncated) identities."""
    folder.mkdir(parents=True)
    np.savez(
        folder / "xvec_transform.npz",
        mean1=np.zeros(dimension),
        mean2=np.zeros(lda_dimension),
        lda=np.eye(dimension)[:, :lda_dimension],
    )
    np.savez(
        folder / "plda.npz",
        mu=np.zeros(lda_dimension),
        tr=np.eye(lda_dimension),
        psi=np.linspace(2.0, 1.0, lda_dimension),
    )


def test_stock_pyannote_pipeline_from_a_community_style_clone(tmp_path, sample_file) -> None:
    """config.yaml naming pyannote's own class, ``$model/...`` weights and a PLDA folder."""
    clone = tmp_path / "speaker-diarization-community-1"
    save_checkpoint(load_model("segmentation-3.0"), clone / "segmentation" / "pytorch_model.bin")
    save_checkpoint(load_model("campplus"), clone / "embedding" / "pytorch_model.bin")
    _identity_plda(clone / "plda", EMBEDDING_DIM)
    config = {
        "dependencies": {"pyannote.audio": "4.0.0"},
        "pipeline": {
            "name": "pyannote.audio.pipelines.SpeakerDiarization",
            "params": {
                "segmentation": "$model/segmentation",
                "embedding": "$model/embedding",
                "plda": "$model/plda",
                "clustering": "VBxClustering",
                "segmentation_step": 0.2,
                "embedding_batch_size": 32,
                "segmentation_batch_size": 32,
            },
        },
        "params": {
            "segmentation": {"min_duration_off": 0.0},
            "clustering": {"threshold": 0.6, "Fa": 0.07, "Fb": 0.8},
        },
    }
    (clone / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    pipeline = load_pretrained_pipeline(clone, device="cpu")
    assert type(pipeline) is SpeakerDiarization
    output = pipeline(sample_file)
    assert 1 <= len(output.speaker_diarization.labels()) <= 3
    assert output.speaker_diarization.get_timeline().support().duration() > 15.0


def test_directory_without_config_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ModelLoadError, match="config.yaml"):
        load_pretrained_pipeline(tmp_path)


def test_config_pointing_at_missing_weights_is_a_clear_error(tmp_path) -> None:
    directory = export_pipeline_dir(tmp_path / "clone")
    (directory / "embedding" / "pytorch_model.bin").unlink()
    with pytest.raises(ModelLoadError, match="cannot load pipeline"):
        load_pretrained_pipeline(directory)


def test_hub_failure_never_shows_the_token(monkeypatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr("models._privacy._defaulted", set())  # offline as if the user said so
    secret = "hf_DoNotPrintThisToken123"
    with pytest.raises(ModelLoadError) as caught:
        load_pretrained_pipeline("someone/not-a-pipeline", token=secret)
    assert secret not in str(caught.value)
    assert "someone/not-a-pipeline" in str(caught.value)


def test_plda_is_only_required_by_vbx() -> None:
    with pytest.raises(RuntimeError, match="no PLDA"):
        UnusedPLDA()(np.zeros((1, EMBEDDING_DIM)))
    with pytest.raises(ModelLoadError, match="VBxClustering needs a PLDA"):
        OfflineSpeakerDiarization(clustering="VBxClustering")


_FOREIGN = """
from pathlib import Path
Path(__file__).with_name("ran.txt").write_text("imported")


class Boom:
    def __init__(self, **params):
        raise RuntimeError("a pipeline of its own")
"""


def _foreign_pipeline(tmp_path, monkeypatch):
    (tmp_path / "foreign_pipeline.py").write_text(_FOREIGN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    clone = tmp_path / "clone"
    clone.mkdir()
    config = {"pipeline": {"name": "foreign_pipeline.Boom", "params": {}}}
    (clone / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return clone


def test_a_pipeline_naming_foreign_code_is_refused_unless_trusted(tmp_path, monkeypatch) -> None:
    clone = _foreign_pipeline(tmp_path, monkeypatch)
    with pytest.raises(ModelLoadError, match="--trust-pipeline") as caught:
        load_pretrained_pipeline(clone)
    assert "foreign_pipeline.Boom" in str(caught.value) and "\n" not in str(caught.value)
    assert not (tmp_path / "ran.txt").exists()  # nothing of it was imported
    with pytest.raises(ModelLoadError, match="a pipeline of its own"):
        load_pretrained_pipeline(clone, trust=True)
    assert (tmp_path / "ran.txt").exists()  # trusted: pyannote imported and called it


def test_untrusted_code_reads_the_pipeline_and_preprocessors() -> None:
    config = {
        "pipeline": {"name": "pyannote.audio.pipelines.SpeakerDiarization"},
        "preprocessors": {"audio": {"name": "evil.Loader"}, "db": "/data/database.yml"},
    }
    assert untrusted_code(config) == ["evil.Loader"]
    assert (
        untrusted_code({"pipeline": {"name": "models.pipelines.OfflineSpeakerDiarization"}}) == []
    )
    assert untrusted_code({"pipeline": {"name": ["os.system"]}}) == ["['os.system']"]
