"""The per-call work: `run_job(job, settings) -> Outcome`, a plain function any executor calls.

It runs inside a worker (a local worker process, or a Ray actor) and never raises for a
problem with the call: every failure becomes a failed `Outcome` with a one-line error and a
reason. Models are loaded on a worker's first call and kept: `diarize` caches its loaded
diarizer and speech detectors per process, so one worker that runs many calls pays the
start-up (importing torch, loading weights) once. `warm_up` does that ahead of the first call.

Test hook: when the environment variable ``GONG_DIARIZE_BATCH_TEST_KILL`` is set, a worker
that is handed a recording whose file name contains its value kills itself with SIGKILL, as
the kernel's out-of-memory killer or a crash in native code would. The tests use it to check
that a dead worker is replaced and only its call fails. It is not meant for anything else.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from diarize.errors import DiarizeError
from gong_client.batch.jobs import Job, Outcome, WorkSettings

__all__ = ["TEST_KILL_ENV", "run_job", "warm_up"]

TEST_KILL_ENV = "GONG_DIARIZE_BATCH_TEST_KILL"

_REASONS = {
    "AudioLoadError": "audio",
    "CallValidationError": "call",
    "ChannelLayoutError": "channels",
    "PartyMappingError": "parties",
    "ModelLoadError": "model",
    "ConfigError": "model",
}
_threads_set = False


def warm_up(settings: WorkSettings) -> None:
    """Import the pipeline and set torch's thread count, once per process."""
    global _threads_set
    if settings.threads and not _threads_set:
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = str(settings.threads)
        import torch

        torch.set_num_threads(settings.threads)
        _threads_set = True
    import diarize.pipeline  # noqa: F401  (the import is the warm-up)


def run_job(job: Job, settings: WorkSettings) -> Outcome:
    """Diarize one call and return what came of it; never raises for a bad call.

    Parameters
    ----------
    job
        The call: recording, validated call JSON, key.
    settings
        The diarization options and whether to render RTTM.

    Returns
    -------
    Outcome
        ``ok`` with the enriched call, or a failure with a one-line error and its reason.
    """
    _test_kill_hook(job)
    worker = str(os.getpid())
    started = time.perf_counter()
    try:
        warm_up(settings)
        from diarize.pipeline import process_call

        result = process_call(job.audio, job.call, options=settings.options)
    except DiarizeError as exc:
        reason = _REASONS.get(type(exc).__name__, "diarization")
        spent = time.perf_counter() - started
        return Outcome.failure(job, str(exc), reason, processing_s=spent, worker=worker)
    except MemoryError:
        spent = time.perf_counter() - started
        return Outcome.failure(
            job, "out of memory", "out of memory", processing_s=spent, worker=worker
        )
    except Exception as exc:  # a bug must not stop the batch; it is reported with the call
        spent = time.perf_counter() - started
        message = f"internal error: {type(exc).__name__}: {exc}"
        return Outcome.failure(job, message, "internal", processing_s=spent, worker=worker)
    return Outcome(
        job.index,
        True,
        call=result.call,
        rttm=result.to_rttm(job.client_unique_id or None) if settings.rttm else None,
        layout=result.layout.value,
        audio_s=float(result.duration_s),
        processing_s=time.perf_counter() - started,
        segments=[(round(s.start_s, 3), round(s.end_s, 3), s.speaker) for s in result.segments],
        speakers=len({a.speaker for a in result.assignments}),
        note=getattr(result, "timeline_withheld", None),
        worker=worker,
    )


def _test_kill_hook(job: Job) -> None:
    marker = os.environ.get(TEST_KILL_ENV)
    if marker and marker in Path(job.audio).name:
        os.kill(os.getpid(), signal.SIGKILL)
