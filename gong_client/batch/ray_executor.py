"""`RayExecutor`: the batch's calls diarized by Ray actors, on this machine or a cluster.

```
gong-diarize batch calls.jsonl --out results/ --ray local     # a private Ray on this machine
gong-diarize batch calls.jsonl --out results/ --ray auto      # the cluster `ray start` set up
gong-diarize batch calls.jsonl --out results/ --ray 10.0.0.5:6379 --workers 16
```

It implements the `gong_client.batch.executor.Executor` seam with plain Ray actors (Ray core
only: Ray Data would add pyarrow and pandas to the install for a stream of a few calls per
second, and one call per actor call keeps a dead actor's cost to exactly its call):

- Each actor is a model-holding worker: it loads the models once (``warm_up``) and then runs
  ``run_job`` for one call at a time, the same function the local pool runs, so a batch gives
  the same outcomes on Ray as on local processes.
- The driver (the process running ``gong-diarize batch``) pulls jobs lazily, stereo first
  (`PriorityFeed`), hands each to an idle actor, and hands the actor its next call before it
  delivers the finished one, so uploads in the driver never leave an actor idle.
- An actor that dies while on a call (killed, out of memory, a crash in native code) costs that
  call: it is recorded failed with the reason (``worker died``) and a fresh actor takes the
  actor's place. Actors that keep dying stop the batch with one line (`BatchError`).
- One writer: the outputs, the summary, the journal and the uploads stay in the driver. Uploads
  go through the driver's one `GongClient`, so its rate limiter is the batch's one, cluster-wide
  limiter: no actor talks to Gong, and the batch as a whole keeps Gong's company-wide 3/s.
- GPUs: when the cluster has GPUs, every actor asks for a share of one (``num_gpus``: one GPU,
  or ``GPUs / workers`` when there are more workers than GPUs) and the models run on it.
- Recordings: an actor on the driver's machine reads the recording from its path; an actor on
  another node gets the file's bytes through Ray's object store (no shared file system is
  needed). Voiceprints (``--voiceprints``) and a local ``--pipeline`` directory are read by
  the actors from their paths, so on a cluster they must exist on every node, and every node
  needs gong-diarize installed (same version) in the Python environment Ray runs.

Privacy: recordings are private; what ``--ray local`` keeps on this machine, and how, is in
`gong_client.batch.ray_session`.

When Ray is already initialised in this process (a user's own pipeline, or a test), the
executor uses that session and leaves it running; otherwise it starts (or joins) one and shuts
it down at `close`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gong_client.batch.errors import BatchError
from gong_client.batch.executor import OnOutcome, PriorityFeed
from gong_client.batch.jobs import Job, Outcome, WorkSettings
from gong_client.batch.ray_session import connect, death_reason, import_ray, one_line, shutdown
from gong_client.batch.work import TEST_KILL_ENV

__all__ = ["RayExecutor", "connect", "shutdown"]

_WAIT_S = 1.0  # ray.wait in slices, so that Ctrl-C is seen at once
# Environment the actors need from the driver (a cluster's workers do not inherit it).
_FORWARDED_ENV = ("PYANNOTE_METRICS_ENABLED", "HF_HUB_OFFLINE", TEST_KILL_ENV)


class _Diarizer:
    """A Ray actor holding the models; one call at a time (`run_job`)."""

    def __init__(self, settings: WorkSettings) -> None:
        from gong_client.batch.work import warm_up

        self.settings = settings
        # a failure here shows again, with its reason, in each call's outcome
        with contextlib.suppress(Exception):
            warm_up(settings)

    def node(self) -> str:
        """The Ray node this actor runs on."""
        import ray

        return ray.get_runtime_context().get_node_id()

    def work(self, job: Job, audio_bytes: bytes | None = None) -> Outcome:
        """Diarize one call; `audio_bytes` is the recording when its path is not on this node."""
        import ray

        from gong_client.batch.work import run_job

        context = ray.get_runtime_context()
        gpus = context.get_accelerator_ids().get("GPU") or []
        where = f"ray:{socket.gethostname()}:{os.getpid()}" + (f":gpu{gpus[0]}" if gpus else "")
        if audio_bytes is None:
            outcome = run_job(job, self.settings)
        else:
            with tempfile.TemporaryDirectory(prefix="gong-batch-") as folder:
                local = Path(folder) / Path(job.audio).name  # same name: formats go by suffix
                local.write_bytes(audio_bytes)
                outcome = run_job(dataclasses.replace(job, audio=str(local)), self.settings)
        outcome.worker = where
        return outcome


class _Slot:
    """One actor and the job it holds (if any)."""

    def __init__(self, handle: Any, node: Any) -> None:
        self.handle = handle
        self.node = node  # an ObjectRef until resolved, then the node id
        self.job: Job | None = None


class RayExecutor:
    """Model-holding Ray actors diarize the batch's calls (see the module docstring).

    Parameters
    ----------
    settings
        What every call is diarized with.
    workers
        Actors to run (on a cluster, fewer when its CPUs cannot hold that many).
    address
        ``"local"``, ``"auto"`` or a cluster address (see `connect`).
    lookahead
        Jobs held ahead of the actors, among which stereo ones go first.
    ship_audio
        Send recordings through Ray's object store: ``None`` (default) only to actors on
        other nodes than the driver's; ``True`` always.
    """

    def __init__(
        self,
        settings: WorkSettings,
        workers: int = 1,
        address: str = "local",
        *,
        lookahead: int | None = None,
        ship_audio: bool | None = None,
    ) -> None:
        self.settings = settings
        self.workers = max(1, int(workers))
        self.address = address
        self.lookahead = lookahead or max(16, 4 * self.workers)
        self.ship_audio = ship_audio
        self.replaced = 0
        self._ray: Any = None
        self._owns_session = False
        self._actor_class: Any = None
        self._slots: list[_Slot] = []
        self._driver_node: str | None = None

    def __repr__(self) -> str:
        return f"RayExecutor(workers={self.workers}, address={self.address!r})"

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every actor, and Ray itself when this executor started it; idempotent."""
        slots, self._slots = self._slots, []
        if self._ray is not None:
            for slot in slots:
                self._kill(slot)
            if self._owns_session:
                shutdown()
        self._owns_session = False

    def _open(self) -> None:
        if self._ray is not None:
            return
        cpus_per_actor = max(1, self.settings.threads or 1)
        started = connect(self.address, num_cpus=self.workers * cpus_per_actor)
        self._ray = import_ray()
        self._owns_session = started
        resources = self._ray.cluster_resources()
        gpus = float(resources.get("GPU", 0))
        cpus = float(resources.get("CPU", 0))
        if gpus >= 1:
            options: dict[str, Any] = {"num_cpus": 1, "num_gpus": min(1.0, gpus / self.workers)}
        else:
            options = {"num_cpus": cpus_per_actor}
            self.workers = max(1, min(self.workers, int(cpus // cpus_per_actor)))
        env = {name: os.environ[name] for name in _FORWARDED_ENV if name in os.environ}
        if self.settings.threads:
            env["OMP_NUM_THREADS"] = str(self.settings.threads)
        self._actor_class = self._ray.remote(
            max_restarts=0,
            max_task_retries=0,
            runtime_env={"env_vars": env} if env else None,
            **options,
        )(_Diarizer)
        self._driver_node = self._ray.get_runtime_context().get_node_id()

    def _start(self) -> _Slot:
        try:
            handle = self._actor_class.remote(self.settings)
        except Exception as exc:  # noqa: BLE001 (Ray's errors have no common base class)
            raise BatchError(f"cannot start a Ray actor ({one_line(exc)})") from None
        return _Slot(handle, handle.node.remote())

    def _kill(self, slot: _Slot) -> None:
        with contextlib.suppress(Exception):  # already dead, or Ray is shutting down
            self._ray.kill(slot.handle, no_restart=True)

    def run(self, jobs: Iterable[Job], on_outcome: OnOutcome) -> None:
        """Work on every job of `jobs` and report each outcome (see `Executor.run`)."""
        feed = PriorityFeed(jobs, self.lookahead)
        pending: dict[Any, _Slot] = {}
        exhausted = False
        deaths_in_a_row = 0
        try:
            self._open()
            ray = self._ray
            while True:
                exhausted = self._fill(feed, pending, exhausted)
                if not pending:
                    if exhausted:
                        return
                    continue
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=_WAIT_S)
                for ref in ready:
                    slot = pending.pop(ref)
                    job, slot.job = slot.job, None
                    assert job is not None
                    outcome, died = self._collect(ref, job)
                    if died:
                        deaths_in_a_row += 1
                        self._replace(slot, outcome, deaths_in_a_row)
                    else:
                        deaths_in_a_row = 0
                    # the next call goes out before this one is delivered (on_outcome may block)
                    exhausted = self._fill(feed, pending, exhausted)
                    on_outcome(job, outcome)
        except BaseException:
            self.close()
            raise

    def _fill(self, feed: PriorityFeed, pending: dict[Any, _Slot], exhausted: bool) -> bool:
        """Give a job to every idle actor (starting actors up to `workers`); True once the
        stream is exhausted."""
        while not exhausted:
            slot = self._idle_slot()
            if slot is None:
                break
            job = feed.pop()
            if job is None:
                return True
            slot.job = job
            pending[self._submit(slot, job)] = slot
        return exhausted

    def _idle_slot(self) -> _Slot | None:
        for slot in self._slots:
            if slot.job is None:
                return slot
        if len(self._slots) < self.workers:
            self._slots.append(self._start())
            return self._slots[-1]
        return None

    def _submit(self, slot: _Slot, job: Job) -> Any:
        if not self._ships_to(slot):
            return slot.handle.work.remote(job)
        try:
            audio = Path(job.audio).read_bytes()
        except OSError as exc:
            error = f"cannot read the recording {job.audio} ({exc.strerror or exc})"
            return self._ray.put(Outcome.failure(job, error, "audio"))
        return slot.handle.work.remote(job, self._ray.put(audio))

    def _ships_to(self, slot: _Slot) -> bool:
        if self.ship_audio is not None:
            return self.ship_audio
        if not isinstance(slot.node, str):
            try:
                slot.node = self._ray.get(slot.node)
            except Exception:  # noqa: BLE001 (a dead actor: its call fails as it would anyway)
                return False
        return slot.node != self._driver_node

    def _collect(self, ref: Any, job: Job) -> tuple[Outcome, bool]:
        """The job's outcome, and whether its actor died on it."""
        ray = self._ray
        try:
            return ray.get(ref), False
        except ray.exceptions.RayActorError as exc:
            why = f"the Ray actor died while on this call ({death_reason(exc)})"
            return Outcome.failure(job, why, "worker died"), True
        except ray.exceptions.RayTaskError as exc:  # a bug in the work itself; the actor lives
            cause = exc.cause if exc.cause is not None else exc
            error = f"internal error: {type(cause).__name__}: {one_line(cause)}"
            return Outcome.failure(job, error, "internal"), False
        except ray.exceptions.RayError as exc:  # the object or its owner is lost: start afresh
            why = f"the Ray actor was lost while on this call ({one_line(exc)})"
            return Outcome.failure(job, why, "worker died"), True

    def _replace(self, slot: _Slot, outcome: Outcome, deaths_in_a_row: int) -> None:
        self._kill(slot)
        if deaths_in_a_row > 2 * self.workers + 2:
            raise BatchError(f"Ray actors keep dying ({outcome.error})")
        self._slots[self._slots.index(slot)] = self._start()
        self.replaced += 1
