"""`run_batch`: the driver of a batch, and the one writer of everything it produces.

    manifest ──► rows ──► (bad row: failed) ──► job (hash, key, name) ──► up to date? skip
                                                   │
                                                   ▼
                        executor (local processes or Ray) ──► outcome ──► outputs + stamp
                                                                     └──► upload thread(s)
                                                                          (one GongClient)
    every call ──► one record ──► summary.json, summary.html, progress callback

The driver runs in the calling process: it reads the manifest lazily, decides what needs
work, writes the outputs atomically, and uploads through one client. Executors only turn jobs
into outcomes (see `gong_client.batch.executor`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from diarize.options import Options
from gong_client._media import sha256_file
from gong_client.batch.errors import BatchError
from gong_client.batch.executor import Executor, make_executor
from gong_client.batch.jobs import Job, Outcome, WorkSettings
from gong_client.batch.local_pool import default_workers
from gong_client.batch.manifest import BadRow, Row, count_entries, read_manifest
from gong_client.batch.outputs import Outputs, content_key, output_name
from gong_client.batch.progress import ProgressCallback, ProgressTracker
from gong_client.batch.strip import make_strip
from gong_client.batch.summary import SummaryWriter, format_table
from gong_client.batch.uploads import Uploads
from gong_client.client import GongClient
from gong_client.errors import GongError

__all__ = ["BatchResult", "run_batch"]

_EARLIER = "(failed in an earlier run; --retry-failed tries it again)"


@dataclass(frozen=True)
class BatchResult:
    """What `run_batch` did.

    Attributes
    ----------
    totals
        The ``totals`` object of ``summary.json``.
    summary_path, html_path
        Where the summary files are.
    table
        The summary as text (what the CLI prints at the end).
    """

    totals: dict[str, Any]
    summary_path: Path
    html_path: Path
    table: str

    @property
    def exit_code(self) -> int:
        """0 when every call is done or skipped, 1 when any failed."""
        return 1 if self.totals["failed"] else 0


def run_batch(
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    options: Options | None = None,
    rttm: bool = False,
    workers: int | None = None,
    upload: bool = False,
    client: GongClient | None = None,
    retry_failed: bool = False,
    ray: str | None = None,
    executor: Executor | None = None,
    on_progress: ProgressCallback | None = None,
) -> BatchResult:
    """Diarize (and upload) every call of a manifest; resume where an earlier run stopped.

    Parameters
    ----------
    source
        A ``.jsonl`` or ``.csv`` manifest, or a folder of recordings with their call JSON
        (see `gong_client.batch.manifest`).
    out
        Output folder: ``calls/NAME.json`` (and ``.rttm``), ``summary.json``, ``summary.html``.
    options
        Diarization options for every call (a progress hook in them is ignored).
    rttm
        Also write each timeline as RTTM.
    workers
        Worker processes (default: the cores this process may use).
    upload
        Upload each enriched call to Gong through `client` (built from the environment when
        ``None``).
    client
        The `GongClient` to upload through; its rate limiter and journal serve the batch.
    retry_failed
        Work again on calls an earlier run recorded as failed (otherwise reported again).
    ray
        Run on Ray: ``"local"``, ``"auto"`` or a cluster address (needs the Ray extra).
    executor
        An executor to use instead (see `gong_client.batch.executor.Executor`).
    on_progress
        Called with a `BatchProgress` after each call.

    Returns
    -------
    BatchResult

    Raises
    ------
    BatchError
        The batch cannot run (unreadable manifest, unusable output folder, no workers).
    KeyboardInterrupt
        After writing the summary of what was finished; outputs and journal stay consistent.
    """
    options = replace(options or Options(), hook=None)
    workers = max(1, workers or default_workers())
    cores = default_workers()
    settings = WorkSettings(options=options, rttm=rttm, threads=max(1, cores // workers))
    pool = executor if executor is not None else make_executor(settings, workers, ray)
    total = count_entries(source)
    manifest = read_manifest(source)
    outputs = Outputs(Path(out))
    tracker = ProgressTracker(total, on_progress)
    summary = SummaryWriter(outputs.out, on_record=tracker.record)
    own_client = upload and client is None
    started = time.monotonic()
    interrupted = False
    uploads: Uploads | None = None
    try:
        if upload:
            if client is None:
                try:
                    client = GongClient()
                except GongError as exc:
                    raise BatchError(str(exc)) from None
            uploads = Uploads(client, outputs, summary.add)
        driver = _Driver(outputs, summary, settings, uploads, retry_failed)
        try:
            with pool:
                pool.run(driver.jobs(manifest), driver.on_outcome)
        except KeyboardInterrupt:
            interrupted = True
        if uploads is not None:
            try:
                uploads.close(cancel=interrupted)
            except KeyboardInterrupt:
                interrupted = True
                uploads.close(cancel=True)
        totals = summary.finish(time.monotonic() - started, interrupted)
        table = format_table(summary.records(), totals)
    finally:
        summary.close()
        if own_client and client is not None:
            client.close()
    if interrupted:
        raise KeyboardInterrupt
    summary.partial.unlink(missing_ok=True)
    return BatchResult(totals, outputs.out / "summary.json", outputs.out / "summary.html", table)


def _bad_row_reason(field: str) -> str:
    """The failure reason of a bad manifest row, by the field it names."""
    if field in ("audio", "recording"):
        return "audio"
    if field in ("line", "row"):
        return "manifest"
    return "call"


def _channels(path: Path) -> int:
    """The channel count in the file's header (0 when the header cannot be read)."""
    try:
        import soundfile

        return int(soundfile.info(str(path)).channels)
    except Exception:  # noqa: BLE001 (any unreadable header just means "not known")
        return 0


class _Driver:
    """Turns manifest rows into jobs and outcomes into files, uploads and records."""

    def __init__(
        self,
        outputs: Outputs,
        summary: SummaryWriter,
        settings: WorkSettings,
        uploads: Uploads | None,
        retry_failed: bool,
    ) -> None:
        self.outputs = outputs
        self.summary = summary
        self.settings = settings
        self.uploads = uploads
        self.retry_failed = retry_failed

    def jobs(self, manifest: Iterator[Row | BadRow]) -> Iterator[Job]:
        """The jobs that need work; everything else is recorded on the way."""
        for entry in manifest:
            if isinstance(entry, BadRow):
                self.summary.add(
                    {
                        "audio": entry.audio,
                        "line": entry.line or None,
                        "status": "failed",
                        "error": entry.error,
                        "reason": _bad_row_reason(entry.field),
                    }
                )
                continue
            try:
                job = self._job(entry)
            except GongError as exc:  # the recording vanished or cannot be read
                self.summary.add(
                    {
                        "audio": str(entry.audio),
                        "line": entry.line or None,
                        "status": "failed",
                        "error": f"{entry.where}: audio: {exc}",
                        "reason": "audio",
                    }
                )
                continue
            if not self._settled(job):
                yield job

    def _job(self, row: Row) -> Job:
        audio = row.audio.resolve()
        audio_sha = sha256_file(audio)
        call = dict(row.call)
        given = call.get("clientUniqueId") or None
        if not given:
            call["clientUniqueId"] = "sha256-" + audio_sha  # as `upload` derives it
        return Job(
            index=row.index,
            line=row.line,
            audio=str(audio),
            call=call,
            name=output_name(given, audio, audio_sha),
            key=content_key(audio_sha, call, self.settings.options),
            channels=_channels(audio),
        )

    def _base(self, job: Job) -> dict[str, Any]:
        return {
            "audio": job.audio,
            "clientUniqueId": job.client_unique_id,
            "line": job.line or None,
        }

    def _settled(self, job: Job) -> bool:
        """Record a call an earlier run finished (or failed); True when it needs no work."""
        stamp = self.outputs.stamp(job, rttm=self.settings.rttm)
        if stamp is None:
            return False
        record = {**self._base(job), **{k: v for k, v in stamp.items() if k != "key"}}
        if stamp.get("status") == "failed":
            if self.retry_failed:
                return False
            error = str(record.get("error", ""))
            record["error"] = error if error.endswith(_EARLIER) else f"{error} {_EARLIER}"
            self.summary.add(record)
            return True
        if self.uploads is not None:
            finished = self.uploads.finished(job.client_unique_id)
            if finished is None:
                self.uploads.submit(job, record)  # diarized before, not yet in Gong
                return True
            record.update(callId=finished.call_id, url=finished.url)
        record["status"] = "skipped"
        self.summary.add(record)
        return True

    def on_outcome(self, job: Job, outcome: Outcome) -> None:
        """Write a finished call's files, then upload it or record it."""
        record = self._base(job)
        record.update(
            processingSeconds=round(outcome.processing_s, 3),
            worker=outcome.worker,
        )
        if not outcome.ok:
            record.update(status="failed", error=outcome.error, reason=outcome.reason)
            self.outputs.write_failed(job, record)
            self.summary.add(record)
            return
        assert outcome.call is not None
        parties = outcome.call.get("parties", [])
        record.update(
            status="done",
            output=str(self.outputs.call_path(job.name)),
            rttm=str(self.outputs.rttm_path(job.name)) if outcome.rttm is not None else None,
            layout=outcome.layout,
            speakers=outcome.speakers,
            note=outcome.note,
            audioSeconds=round(outcome.audio_s, 3),
            strip=make_strip(outcome.segments, outcome.audio_s, parties),
        )
        self.outputs.write_done(job, outcome, record)
        if self.uploads is not None:
            self.uploads.submit(job, record)
        else:
            self.summary.add(record)


def dump_call(call: dict[str, Any]) -> str:
    """One line of JSON for a call (what ``--dry-run`` prints per row)."""
    return json.dumps(call, ensure_ascii=False, separators=(",", ":"))
