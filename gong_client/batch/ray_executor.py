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

Privacy: recordings are private. ``--ray local`` starts Ray with usage statistics off
(``RAY_USAGE_STATS_ENABLED=0``, set before Ray starts), without its dashboard, with token
authentication whose token lives only in this process's environment (Ray would write one under
``~/.ray``), and with its logs and sockets in an owner-only temporary folder that is removed
at the end (not ``/tmp/ray``); nothing leaves the machine. A cluster runs with its own
settings: start it with ``ray start --head --disable-usage-stats``.

When Ray is already initialised in this process (a user's own pipeline, or a test), the
executor uses that session and leaves it running; otherwise it starts (or joins) one and shuts
it down at `close`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import secrets
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gong_client.batch.errors import BatchError
from gong_client.batch.executor import OnOutcome, PriorityFeed
from gong_client.batch.jobs import Job, Outcome, WorkSettings
from gong_client.batch.work import TEST_KILL_ENV

__all__ = ["RayExecutor", "connect", "shutdown"]

INSTALL_HINT = "pip install '.[ray]' (or 'gong-diarize[ray]')"
_LOCAL_OBJECT_STORE_BYTES = 512 * 2**20  # jobs and outcomes are small; recordings go by path
_PROBE_TIMEOUT_S = 5.0
_WAIT_S = 1.0  # ray.wait in slices, so that Ctrl-C is seen at once
_DEFAULT_PORT = 6379
# Environment the actors need from the driver (a cluster's workers do not inherit it).
_FORWARDED_ENV = ("PYANNOTE_METRICS_ENABLED", "HF_HUB_OFFLINE", TEST_KILL_ENV)
_local_temp_dirs: list[str] = []  # of the local instances this process started


def _import_ray() -> Any:
    try:
        import ray
    except ModuleNotFoundError:
        raise BatchError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def connect(address: str = "local", *, num_cpus: int | None = None) -> bool:
    """Start or join Ray for a batch; True when this call did it (the caller shuts it down).

    Parameters
    ----------
    address
        ``"local"``: start a private Ray instance on this machine; ``"auto"``: join the cluster
        that ``ray start`` set up here (or ``RAY_ADDRESS``); else a cluster's ``HOST:PORT``
        (or a Ray Client ``ray://HOST:PORT``).
    num_cpus
        CPUs of a local instance (default: the machine's).

    Raises
    ------
    BatchError
        Ray is not installed, no cluster is found, or its address cannot be reached.
    """
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # read when Ray starts
    imported_before = sys.modules.get("ray") is not None
    if imported_before and sys.modules["ray"].is_initialized():
        return False
    if address == "local":
        _private_token(refresh=imported_before)  # before Ray is imported, where it can be
    ray = _import_ray()
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    if address == "local":
        temp_dir = tempfile.mkdtemp(prefix="gong-ray-")  # owner-only; removed by `shutdown`
        try:
            ray.init(
                address="local",
                num_cpus=num_cpus,
                object_store_memory=_LOCAL_OBJECT_STORE_BYTES,
                _temp_dir=temp_dir,
                **quiet,
            )
        except Exception as exc:  # Ray's start-up errors have no common base class
            shutil.rmtree(temp_dir, ignore_errors=True)
            raise BatchError(f"--ray local: cannot start Ray ({_one_line(exc)})") from None
        _local_temp_dirs.append(temp_dir)
        return True
    target = _resolve(ray, address)
    _probe(address, target)
    try:
        ray.init(address=target, log_to_driver=False, logging_level=logging.ERROR)
    except Exception as exc:  # noqa: BLE001 (as above)
        raise BatchError(f"--ray {address}: cannot join the cluster ({_one_line(exc)})") from None
    return True


def shutdown() -> None:
    """Shut Ray down in this process, and remove a local instance's files (logs, sockets)."""
    ray = _import_ray()
    if ray.is_initialized():
        ray.shutdown()
    while _local_temp_dirs:
        shutil.rmtree(_local_temp_dirs.pop(), ignore_errors=True)


def _private_token(refresh: bool) -> None:
    """Token authentication for a local instance, with a token that lives in this process's
    environment only (Ray would otherwise write one under ``~/.ray``).

    Ray reads the mode when it is imported; `refresh` makes an earlier import see it (as
    Ray's own start-up does when it turns token authentication on by default).
    """
    if "RAY_AUTH_MODE" not in os.environ:
        os.environ["RAY_AUTH_MODE"] = "token"
    if os.environ["RAY_AUTH_MODE"] == "token" and not (
        os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
    ):
        os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    if refresh:
        with contextlib.suppress(Exception):  # an internal call; Ray then keeps its default
            from ray._raylet import Config

            Config.initialize("")


def _resolve(ray: Any, address: str) -> str:
    """The cluster address to join, for ``auto`` the one Ray finds on this machine."""
    if address != "auto":
        return address
    try:
        from ray._private.services import canonicalize_bootstrap_address

        found = canonicalize_bootstrap_address("auto")
    except ConnectionError:
        found = None
    except Exception:  # noqa: BLE001 (an internal helper: fall back to Ray's own lookup)
        return "auto"
    if not found:
        raise BatchError(
            "--ray auto: no running Ray cluster found on this machine (start one with "
            "`ray start --head`, set RAY_ADDRESS, or use --ray local)"
        )
    return found


def _probe(given: str, target: str) -> None:
    """Fail fast when the address does not answer (Ray itself would retry for minutes)."""
    if target == "auto":
        return
    host_port = target.removeprefix("ray://").rsplit("/", 1)[0]
    host, _, port = host_port.rpartition(":") if ":" in host_port else (host_port, "", "")
    host = host.strip("[]")
    try:
        port_number = int(port) if port else _DEFAULT_PORT
    except ValueError:
        raise BatchError(f"--ray {given}: not an address (HOST:PORT, auto or local)") from None
    if not host:
        raise BatchError(f"--ray {given}: not an address (HOST:PORT, auto or local)")
    try:
        with socket.create_connection((host, port_number), timeout=_PROBE_TIMEOUT_S):
            pass
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise BatchError(
            f"--ray {given}: cannot reach a Ray cluster at {host}:{port_number} ({why})"
        ) from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__


def death_reason(exc: BaseException) -> str:
    """Why an actor died, in one line, from Ray's (long, multi-line) error."""
    text = str(exc)
    detail = re.search(r"Worker exit detail: (.*?)(?: Some common causes|$)", text, re.S)
    if detail:
        why = " ".join(detail.group(1).split()).rstrip(".")
        if "connection error" in why or "End of file" in why:
            why = "its process ended abruptly: killed, out of memory or a native crash"
        return why
    if "creation task" in text:  # the actor could not even start
        errors = [line.strip() for line in text.splitlines() if re.match(r"\s*\w+Error\b", line)]
        return "it could not start: " + (errors[-1] if errors else _one_line(exc))
    return _one_line(exc).split(". ")[0]


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
        self._ray = _import_ray()
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
            raise BatchError(f"cannot start a Ray actor ({_one_line(exc)})") from None
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
            error = f"internal error: {type(cause).__name__}: {_one_line(cause)}"
            return Outcome.failure(job, error, "internal"), False
        except ray.exceptions.RayError as exc:  # the object or its owner is lost: start afresh
            why = f"the Ray actor was lost while on this call ({_one_line(exc)})"
            return Outcome.failure(job, why, "worker died"), True

    def _replace(self, slot: _Slot, outcome: Outcome, deaths_in_a_row: int) -> None:
        self._kill(slot)
        if deaths_in_a_row > 2 * self.workers + 2:
            raise BatchError(f"Ray actors keep dying ({outcome.error})")
        self._slots[self._slots.index(slot)] = self._start()
        self.replaced += 1
