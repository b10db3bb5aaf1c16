"""Uploads of a batch: a few threads in the driver, all through ONE `GongClient`.

One client means one `RateLimiter` (the batch as a whole keeps Gong's company-wide 3/s) and
one journal (each call is created exactly once, across restarts and kills; see
``gong_client/_upload.py``). Uploads run while the workers diarize the next calls; `submit`
blocks when enough are waiting, so the queue stays short whatever the manifest's length.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gong_client.batch.jobs import Job
from gong_client.batch.outputs import Outputs
from gong_client.client import GongClient, UploadResult
from gong_client.errors import GongError

__all__ = ["Uploads"]


class Uploads:
    """Uploads the enriched calls of a batch in the background.

    Parameters
    ----------
    client
        The one client of the batch.
    outputs
        Where the enriched calls are read from.
    on_record
        Receives each call's record once its upload ended (done with ``callId``, or failed).
    threads
        Uploads at once (the rate limiter is shared, so more threads do not mean more
        requests per second; they overlap the media transfers).
    max_pending
        Uploads waiting or running before `submit` blocks.
    """

    def __init__(
        self,
        client: GongClient,
        outputs: Outputs,
        on_record: Callable[[dict[str, Any]], None],
        *,
        threads: int = 2,
        max_pending: int = 16,
    ) -> None:
        self.client = client
        self.outputs = outputs
        self._on_record = on_record
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="gong-upload")
        self._slots = threading.BoundedSemaphore(max_pending)

    def finished(self, client_unique_id: str) -> UploadResult | None:
        """The journal's record of a call already complete in Gong, else ``None``."""
        return self.client.finished_upload(client_unique_id)

    def submit(self, job: Job, record: dict[str, Any]) -> None:
        """Upload the enriched call of `job`; `record` is completed and reported after."""
        self._slots.acquire()
        try:
            self._pool.submit(self._upload, job, dict(record))
        except BaseException:
            self._slots.release()
            raise

    def _upload(self, job: Job, record: dict[str, Any]) -> None:
        try:
            call = json.loads(self.outputs.call_path(job.name).read_text(encoding="utf-8"))
            result = self.client.upload_call(job.audio, call)
            record.update(status="done", callId=result.call_id, url=result.url)
            if result.already_uploaded:
                record["alreadyUploaded"] = True
        except GongError as exc:
            record.update(status="failed", error=_one_line(f"upload: {exc}"), reason="upload")
        except Exception as exc:  # a bug must not lose the record or stop the batch
            message = f"upload: internal error: {type(exc).__name__}: {exc}"
            record.update(status="failed", error=_one_line(message), reason="upload")
        finally:
            self._slots.release()
        self._on_record(record)

    def close(self, *, cancel: bool = False) -> None:
        """Wait for the uploads under way (and, unless `cancel`, those waiting)."""
        self._pool.shutdown(wait=True, cancel_futures=cancel)


def _one_line(text: str) -> str:
    return " ".join(text.split())
