"""`LocalPool`: supervised worker processes on this machine, one call at a time each.

Each worker is a spawned process that loads the models once and then serves calls over its
own pipe: the parent sends a `Job`, the worker answers with its `Outcome`. Because every
worker holds at most one job and the parent knows which, a worker that dies (SIGKILL, the
out-of-memory killer, a crash in native code) costs exactly that call: the parent sees the
process's sentinel, records the call as failed with the reason, and starts a fresh worker.
(A `concurrent.futures.ProcessPoolExecutor` breaks as a whole when one worker dies.)

Workers ignore SIGINT: Ctrl-C reaches the parent, which stops them. A worker whose parent
dies finds its pipe closed and exits.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Iterable
from multiprocessing.connection import Connection, wait
from typing import Any

from gong_client.batch.errors import BatchError
from gong_client.batch.executor import OnOutcome, PriorityFeed
from gong_client.batch.jobs import Job, Outcome, WorkSettings

__all__ = ["LocalPool", "default_workers"]

_STOP_WAIT_S = 5.0


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _worker_main(conn: Connection, settings: WorkSettings) -> None:
    """A worker process: warm up, then answer one job at a time until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from gong_client.batch.work import run_job, warm_up

    with contextlib.suppress(Exception):  # run_job reports the same problem with each call
        warm_up(settings)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if job is None:
            return
        outcome = run_job(job, settings)
        try:
            conn.send(outcome)
        except (BrokenPipeError, OSError):
            return


class _Worker:
    """One worker process, its pipe, and the job it holds (if any)."""

    def __init__(self, context: Any, settings: WorkSettings) -> None:
        parent_end, child_end = context.Pipe(duplex=True)
        self.conn: Connection = parent_end
        self.process = context.Process(
            target=_worker_main, args=(child_end, settings), daemon=True, name="gong-batch-worker"
        )
        self.process.start()
        child_end.close()
        self.job: Job | None = None
        self.done = 0

    def give(self, job: Job) -> None:
        self.job = job
        self.conn.send(job)

    def death(self) -> str:
        """Why the process ended, in words."""
        code = self.process.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            why = f"killed by {name}"
            if -code == signal.SIGKILL:
                why += ", e.g. by the out-of-memory killer"
        else:
            why = f"exited with code {code}"
        return f"the worker process died while on this call ({why})"

    def stop(self, now: bool = False) -> None:
        if self.process.is_alive() and not now:
            with contextlib.suppress(BrokenPipeError, OSError):
                self.conn.send(None)
            self.process.join(_STOP_WAIT_S)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(_STOP_WAIT_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class LocalPool:
    """Worker processes on this machine, each loading its models once (see `Executor`).

    Parameters
    ----------
    settings
        What every call is diarized with.
    workers
        Number of worker processes (default: the cores this process may use).
    lookahead
        Jobs held ahead of the workers, among which stereo ones go first (default: a few per
        worker).
    """

    def __init__(
        self, settings: WorkSettings, workers: int | None = None, *, lookahead: int | None = None
    ) -> None:
        self.settings = settings
        self.workers = max(1, workers or default_workers())
        self.lookahead = lookahead or max(16, 4 * self.workers)
        self._context = multiprocessing.get_context("spawn")
        self._slots: list[_Worker] = []
        self.replaced = 0

    def __repr__(self) -> str:
        return f"LocalPool(workers={self.workers})"

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker (politely, then by force); idempotent."""
        slots, self._slots = self._slots, []
        for worker in slots:
            worker.stop()

    def _start(self) -> _Worker:
        try:
            return _Worker(self._context, self.settings)
        except OSError as exc:
            raise BatchError(f"cannot start a worker process ({exc.strerror or exc})") from None

    def run(self, jobs: Iterable[Job], on_outcome: OnOutcome) -> None:
        """Work on every job of `jobs` and report each outcome (see `Executor.run`)."""
        feed = PriorityFeed(jobs, self.lookahead)
        deaths_in_a_row = 0
        finished: list[tuple[Job, Outcome]] = []
        try:
            exhausted = False
            while True:
                while not exhausted and self._has_room():
                    job = feed.pop()  # workers start only once there is work for them
                    if job is None:
                        exhausted = True
                    else:
                        self._give(self._idle_worker(), job)
                # outcomes go out once the workers have their next calls: writing and
                # uploading in the driver never leaves a worker idle
                for job, outcome in finished:
                    on_outcome(job, outcome)
                finished = []
                busy = [w for w in self._slots if w.job is not None]
                if not busy and exhausted:
                    return
                waitables = [w.conn for w in busy] + [w.process.sentinel for w in self._slots]
                ready = set(wait(waitables))
                for index, worker in enumerate(list(self._slots)):
                    if worker.job is not None and worker.conn in ready:
                        outcome = self._receive(worker)
                        if outcome is not None:
                            finished.append((worker.job, outcome))
                            worker.job = None
                            worker.done += 1
                            deaths_in_a_row = 0
                            continue
                    if worker.process.sentinel in ready or not worker.process.is_alive():
                        deaths_in_a_row += 1
                        lost = self._replace(index, worker, deaths_in_a_row)
                        if lost is not None:
                            finished.append(lost)
        except BaseException:
            for worker in self._slots:
                worker.stop(now=True)
            self._slots = []
            raise

    def _has_room(self) -> bool:
        return len(self._slots) < self.workers or any(w.job is None for w in self._slots)

    def _idle_worker(self) -> _Worker:
        for worker in self._slots:
            if worker.job is None:
                return worker
        self._slots.append(self._start())
        return self._slots[-1]

    def _give(self, worker: _Worker, job: Job) -> None:
        # a dead worker: its sentinel tells, and the job fails with the reason
        with contextlib.suppress(BrokenPipeError, OSError):
            worker.give(job)

    @staticmethod
    def _receive(worker: _Worker) -> Outcome | None:
        try:
            return worker.conn.recv()
        except (EOFError, OSError):
            return None

    def _replace(
        self, index: int, worker: _Worker, deaths_in_a_row: int
    ) -> tuple[Job, Outcome] | None:
        """Start a fresh worker in a dead one's place; return its lost job's failure."""
        worker.process.join(_STOP_WAIT_S)
        job, worker.job = worker.job, None
        why = worker.death()
        worker.stop(now=True)
        if deaths_in_a_row > 2 * self.workers + 2:
            raise BatchError(f"worker processes keep dying ({why.split('(')[-1].rstrip(')')})")
        self._slots[index] = self._start()
        self.replaced += 1
        if job is None:
            return None
        return job, Outcome.failure(job, why, "worker died", worker=str(worker.process.pid))
