"""ONNX Runtime forward passes: the same outputs as PyTorch, exported once, PyTorch as fallback."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from models.campplus import CAMPPlusEmbedding
from models.loader import load_model
from models.onnx_backend import BACKEND_ENV, OnnxForward, onnx_cache_dir
from models.segmentation import SoftPowersetSegmentation
from tests.models.voices import SAMPLE_RATE, sample_audio


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(BACKEND_ENV, raising=False)


class _Scale(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).tanh()


class _Untraceable(nn.Module):
    """Refuses the all-zero example the exporter traces with."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool((x == 0).all()):
            raise RuntimeError("cannot trace")
        return x * 2


def _runner(module: nn.Module) -> OnnxForward:
    return OnnxForward(module.eval(), "toy", (1, 5, 4), {"input": {0: "b", 1: "t"}})


def test_outputs_match_pytorch_and_the_export_is_kept_once() -> None:
    module = _Scale()
    runner = _runner(module)
    x = torch.randn(2, 7, 4)
    with torch.inference_mode():
        got = runner(x)
        want = module(x)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    files = list(onnx_cache_dir().glob("toy-*.onnx"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    with torch.inference_mode():
        _runner(module)(x)  # a new runner opens the kept file
    assert [f.stat().st_mtime_ns for f in onnx_cache_dir().glob("toy-*.onnx")] == [stamp]


def test_other_weights_get_their_own_export() -> None:
    first, second = _Scale(), _Scale()
    x = torch.randn(1, 3, 4)
    with torch.inference_mode():
        a, b = _runner(first)(x), _runner(second)(x)
        torch.testing.assert_close(b, second(x), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(a, b)
    assert len(list(onnx_cache_dir().glob("toy-*.onnx"))) == 2


def test_pytorch_runs_when_asked_when_gradients_are_wanted_or_export_fails(monkeypatch) -> None:
    x = torch.randn(1, 3, 4)
    monkeypatch.setenv(BACKEND_ENV, "torch")
    with torch.inference_mode():
        _runner(_Scale())(x)
    monkeypatch.delenv(BACKEND_ENV)
    out = _runner(_Scale())(x)  # gradients on: PyTorch
    assert out.requires_grad
    assert not onnx_cache_dir().exists()
    runner = _runner(_Untraceable())
    with torch.inference_mode():
        torch.testing.assert_close(runner(x), x * 2)
    assert not onnx_cache_dir().exists()


def test_a_runner_survives_copy_and_pickle() -> None:
    module = _Scale()
    runner = _runner(module)
    x = torch.randn(1, 3, 4)
    with torch.inference_mode():
        runner(x)
        for clone in (copy.deepcopy(runner), pickle.loads(pickle.dumps(runner))):
            torch.testing.assert_close(clone(x), module(x), atol=1e-5, rtol=1e-5)


def test_bundled_networks_give_pytorch_results(monkeypatch) -> None:
    """CAM++ on real speech of several lengths and segmentation-3.0 on real chunks."""
    campplus = load_model("campplus")
    assert isinstance(campplus, CAMPPlusEmbedding)
    segmentation = SoftPowersetSegmentation(load_model("segmentation-3.0"))
    audio = torch.from_numpy(np.ascontiguousarray(sample_audio()[: 20 * SAMPLE_RATE]))
    chunks = torch.stack([audio[: 10 * SAMPLE_RATE], audio[10 * SAMPLE_RATE :]])[:, None]
    masks = torch.ones(2, 589)
    masks[1, 200:] = 0.0  # 3.4 s of the second chunk
    results = {}
    for backend in ("torch", "onnx"):
        monkeypatch.setenv(BACKEND_ENV, backend)
        with torch.inference_mode():
            results[backend] = (
                campplus(chunks, weights=masks),
                campplus(audio[None, None, : 37 * 160]),  # the shortest embeddable input
                segmentation(chunks),
            )
    for got, want in zip(results["onnx"], results["torch"], strict=True):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    assert sorted(p.name.split("-")[0] for p in onnx_cache_dir().iterdir()) == [
        "campplus",
        "segmentation",
    ]
