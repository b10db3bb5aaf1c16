"""Where calls are diarized: the `Executor` interface, and the executors there are.

The batch driver (`gong_client.batch.runner`) reads the manifest, decides what needs work,
and keeps everything that must have one writer: the outputs under ``--out``, the summary, the
upload journal and the uploads (one `GongClient`, hence one rate limiter, for the batch). An
executor only turns `Job`s into `Outcome`s, somewhere.

The interface
-------------
```python
class Executor(Protocol):
    def run(self, jobs: Iterable[Job], on_outcome: Callable[[Job, Outcome], None]) -> None: ...
    def close(self) -> None: ...
```

- An executor is built with the batch's `WorkSettings` and a worker count, and is a context
  manager (``__exit__`` calls `close`). `make_executor` picks one by name.
- `run` pulls jobs from `jobs` lazily: it holds at most a bounded read-ahead (a few per
  worker), so memory does not grow with the manifest. Pulling may block or take time (the
  driver hashes recordings and checks the journal while it yields), and happens in the
  thread that called `run`.
- Among the jobs it holds, it starts the one with the lowest ``job.priority`` first (stereo
  before mono, see `Job.priority`), else in manifest order. `PriorityFeed` does exactly this
  and is meant to be shared.
- Each job is worked on by ``run_job(job, settings)`` (`gong_client.batch.work`), in a
  process that keeps its loaded models across calls (`warm_up` once per process, then
  `run_job` per call).
- ``on_outcome(job, outcome)`` is called exactly once for every job pulled, in the thread
  that called `run`, in completion order, never concurrently. It may block (back-pressure
  from the uploads); the executor keeps its workers busy meanwhile where it can.
- A failure of one call is an `Outcome`, not an exception: `run_job` reports the call's own
  errors, and a worker that dies while on a call (SIGKILL, out of memory, a native crash) is
  replaced, its call given ``Outcome.failure(job, "<why>", "worker died")``.
- `run` returns when `jobs` is exhausted and every outcome has been delivered. It raises only
  when the executor itself cannot go on (workers cannot start: `BatchError` with one line),
  or on KeyboardInterrupt; in both cases its workers are stopped before the exception leaves.
- `close` stops the workers; it is idempotent.

The executors
-------------
- ``local``: `gong_client.batch.local_pool.LocalPool`, supervised worker processes on this
  machine.
- ``ray``: ``gong_client.batch.ray_executor.RayExecutor(settings, workers=..., address=...)``,
  imported by name only when asked for (Ray is an optional extra).
"""

from __future__ import annotations

import heapq
import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from gong_client.batch.errors import BatchError
from gong_client.batch.jobs import Job, Outcome, WorkSettings

__all__ = ["Executor", "OnOutcome", "PriorityFeed", "make_executor"]

OnOutcome = Callable[[Job, Outcome], None]


class Executor(Protocol):
    """Turns jobs into outcomes (see the module docstring for the full contract)."""

    def run(self, jobs: Iterable[Job], on_outcome: OnOutcome) -> None:
        """Work on every job pulled from `jobs`; call ``on_outcome(job, outcome)`` for each."""
        ...

    def close(self) -> None:
        """Stop the workers (idempotent)."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc_info: object) -> None: ...


class PriorityFeed:
    """A bounded read-ahead over a job stream that hands out the most urgent job first.

    Parameters
    ----------
    jobs
        The stream, pulled lazily.
    lookahead
        How many jobs to hold at most; stereo jobs among them jump ahead of mono ones.
    """

    def __init__(self, jobs: Iterable[Job], lookahead: int) -> None:
        self._jobs: Iterator[Job] = iter(jobs)
        self._lookahead = max(1, lookahead)
        self._held: list[tuple[int, int, Job]] = []
        self._exhausted = False

    def _fill(self) -> None:
        while not self._exhausted and len(self._held) < self._lookahead:
            job = next(self._jobs, None)
            if job is None:
                self._exhausted = True
            else:
                heapq.heappush(self._held, (job.priority, job.index, job))

    def pop(self) -> Job | None:
        """The next job to start, or ``None`` when the stream is exhausted."""
        self._fill()
        if not self._held:
            return None
        return heapq.heappop(self._held)[2]

    def __len__(self) -> int:
        return len(self._held)


def make_executor(settings: WorkSettings, workers: int, ray: str | None = None) -> Executor:
    """The executor for a batch: local worker processes, or Ray when `ray` is given.

    Parameters
    ----------
    settings
        What every call is diarized with.
    workers
        Worker processes (or actors).
    ray
        ``None`` for the local pool; ``"local"``, ``"auto"`` or a cluster address for Ray.

    Raises
    ------
    BatchError
        Ray was asked for but its executor is not available.
    """
    if ray is None:
        from gong_client.batch.local_pool import LocalPool

        return LocalPool(settings, workers=workers)
    try:
        module = importlib.import_module("gong_client.batch.ray_executor")
    except ModuleNotFoundError as exc:
        if exc.name == "gong_client.batch.ray_executor":
            raise BatchError("--ray is not available in this version: run without --ray") from None
        raise BatchError(
            f"--ray needs {exc.name or 'ray'}, which is not installed: install the Ray extra "
            "(pip install 'gong-diarize[ray]') or run without --ray"
        ) from None
    return module.RayExecutor(settings, workers=workers, address=ray)
