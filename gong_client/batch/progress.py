"""Progress of a batch: a snapshot after each call (`BatchProgress`), and the CLI's bar."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["BatchProgress", "ProgressCallback", "ProgressTracker", "progress_bar"]


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch stands.

    Attributes
    ----------
    total
        Entries in the manifest (``None`` when not counted).
    done, failed, skipped, uploaded
        Calls so far in each state (uploaded calls are also done).
    audio_s
        Audio seconds of the calls done in this run.
    elapsed_s
        Seconds since the batch started.
    last
        The record of the call that just finished (see `gong_client.batch.summary`).
    """

    total: int | None
    done: int
    failed: int
    skipped: int
    uploaded: int
    audio_s: float
    elapsed_s: float
    last: dict[str, Any] | None = None

    @property
    def finished(self) -> int:
        """Calls with a final status."""
        return self.done + self.failed + self.skipped

    @property
    def calls_per_hour(self) -> float:
        """Calls done per hour of wall time."""
        return self.done / max(self.elapsed_s, 1e-9) * 3600

    @property
    def audio_hours_per_hour(self) -> float:
        """Audio hours done per hour of wall time."""
        return self.audio_s / max(self.elapsed_s, 1e-9)

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the pace of the calls worked on so far (``None``: not known yet)."""
        worked = self.done + self.failed
        if self.total is None or worked == 0:
            return None
        return max(0, self.total - self.finished) * self.elapsed_s / worked


ProgressCallback = Callable[[BatchProgress], None]


class ProgressTracker:
    """Counts records as they come and calls the callback with a fresh `BatchProgress`."""

    def __init__(
        self,
        total: int | None,
        callback: ProgressCallback | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self._callback = callback
        self._clock = clock
        self._started = clock()
        self._counts = {"done": 0, "failed": 0, "skipped": 0}
        self._uploaded = 0
        self._audio_s = 0.0

    def snapshot(self, last: dict[str, Any] | None = None) -> BatchProgress:
        """The progress now."""
        return BatchProgress(
            self.total,
            self._counts["done"],
            self._counts["failed"],
            self._counts["skipped"],
            self._uploaded,
            self._audio_s,
            self._clock() - self._started,
            last,
        )

    def record(self, record: dict[str, Any]) -> None:
        """Count one call's record and report."""
        status = record["status"]
        self._counts[status] += 1
        if status == "done":
            self._audio_s += float(record.get("audioSeconds") or 0.0)
            if record.get("callId"):
                self._uploaded += 1
        if self._callback is not None:
            self._callback(self.snapshot(record))


def _hms(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr fed with `BatchProgress`, or nothing when disabled."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        BarColumn(bar_width=16),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("batch", total=None, detail="starting")

        def show(progress: BatchProgress) -> None:
            detail = (
                f"{progress.done} done, {progress.failed} failed, {progress.skipped} skipped"
                f" | {progress.audio_s / 3600:.2f} h audio, {progress.audio_hours_per_hour:.1f}"
                f" h/h, {progress.calls_per_hour:.0f} calls/h | ETA {_hms(progress.eta_s)}"
            )
            bar.update(task, completed=progress.finished, total=progress.total, detail=detail)

        yield show
