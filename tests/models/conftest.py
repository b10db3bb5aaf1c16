"""Model tests run torch on one thread: the test machine has two shared cores, and OpenMP
threads that spin while another process holds the second core make inference several times
slower than one thread alone."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
