"""Fixtures shared by the diarization tests.

Torch runs on one thread there: the test machine has two shared cores, and OpenMP threads that
spin while another process holds the second core make inference several times slower.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def diarizer(one_torch_thread):
    from diarize.diarizer import Diarizer

    return Diarizer.load(device="cpu")
