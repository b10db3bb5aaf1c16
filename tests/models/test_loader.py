"""`load_model`: bundled names, local paths and mappings; never a download; clear errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from pyannote.audio import Model

from diarize.errors import ModelLoadError
from models.assets import BundledWeights, weights_path
from models.campplus import CAMPPlusEmbedding
from models.loader import load_model, resolve_device
from models.pipelines import save_checkpoint


def test_bundled_segmentation_loads_in_eval_mode() -> None:
    model = load_model("segmentation-3.0")
    assert isinstance(model, Model)
    assert not model.training
    specs = model.specifications
    assert specs.powerset and specs.duration == 10.0 and len(specs.classes) == 3
    scores = model(torch.zeros(1, 1, 16000))
    # shape: (batch, frames, powerset classes)
    assert scores.shape[0] == 1 and scores.shape[2] == 7


def test_bundled_campplus_loads_with_its_weights() -> None:
    model = load_model("campplus")
    assert isinstance(model, CAMPPlusEmbedding)
    assert model.dimension == 192
    reference = torch.load(weights_path(BundledWeights.CAMPPLUS), weights_only=True)
    name = "head.conv1.weight"
    assert torch.equal(model.campplus.state_dict()[name], reference[name])


def test_weights_are_found_from_any_working_directory(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert weights_path(BundledWeights.SEGMENTATION_3_0).is_file()
    assert isinstance(load_model("segmentation-3.0"), Model)


def test_a_loaded_model_is_returned_as_is() -> None:
    model = load_model("campplus")
    assert load_model(model) is model


def test_local_checkpoint_file_directory_and_mapping(tmp_path) -> None:
    original = load_model("campplus")
    target = save_checkpoint(original, tmp_path / "embedding" / "pytorch_model.bin")
    for spec in (
        target,
        str(tmp_path / "embedding"),
        {"checkpoint": tmp_path, "subfolder": "embedding"},
        {"name": str(target)},
    ):
        model = load_model(spec)
        assert isinstance(model, CAMPPlusEmbedding)
        loaded = model.state_dict()
        for key, value in original.state_dict().items():
            assert torch.equal(loaded[key], value), key


def test_unknown_name_is_an_error_and_nothing_is_downloaded() -> None:
    with pytest.raises(ModelLoadError, match="never downloaded") as caught:
        load_model("pyannote/segmentation-3.0")
    assert "segmentation-3.0" in str(caught.value)


def test_corrupt_checkpoint_is_a_one_line_error(tmp_path) -> None:
    bad = tmp_path / "pytorch_model.bin"
    bad.write_bytes(b"this is not a checkpoint")
    with pytest.raises(ModelLoadError, match="cannot load pyannote checkpoint") as caught:
        load_model(bad)
    assert str(bad) in str(caught.value) and "\n" not in str(caught.value)
    weights = tmp_path / "campplus.pt"
    weights.write_bytes(b"garbage")
    with pytest.raises(ModelLoadError, match="cannot load CAM\\+\\+ weights"):
        load_model(weights)


def test_mapping_with_unknown_keys_is_rejected() -> None:
    with pytest.raises(ModelLoadError, match="unknown keys"):
        load_model({"name": "campplus", "revision": "main"})
    with pytest.raises(ModelLoadError, match="expected a 'name' or a 'checkpoint'"):
        load_model({"path": "x"})


def test_device_names() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ModelLoadError, match="not a device name"):
        resolve_device("gpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(ModelLoadError, match="CUDA is not available"):
            resolve_device("cuda")


@pytest.mark.parametrize("pyannote_first", [False, True])
def test_importing_models_switches_pyannote_telemetry_off(pyannote_first) -> None:
    """Off whether or not pyannote.audio (whose own default is on) was imported before."""
    env = {k: v for k, v in os.environ.items() if k != "PYANNOTE_METRICS_ENABLED"}
    code = (
        ("import pyannote.audio.telemetry.metrics\n" if pyannote_first else "")
        + "import models\n"
        + "from pyannote.audio.telemetry.metrics import is_metrics_enabled\n"
        + "print(is_metrics_enabled())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
