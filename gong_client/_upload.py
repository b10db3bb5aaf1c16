"""The exactly-once upload flow: a stable clientUniqueId and the journal's state machine.

``POST /v2/calls`` is not idempotent, so `GongClient.upload_call` pins a stable
clientUniqueId (the call's own, else ``sha256-<hex>`` of the recording's bytes) and writes its
progress to the `Journal` before and after each step (see ``_journal.py`` for the states):

- A retry of the POST is safe because Gong refuses a second call with the same
  clientUniqueId; the only risk is *losing* the callId when an attempt was processed but its
  answer never came (5xx, dropped connection, timeout). The retry then meets a 409, and the
  callId is looked up by clientUniqueId (``_recover.py``) before giving up with a
  `ConflictError` that says so; a lookup that fails for now (5xx, 429) raises that error
  instead and leaves the row ``posting``, so the next run looks again. A 409 with nothing
  uncertain before it is a plain conflict.
- A POST refused for sure (4xx with no uncertain attempt before it) removes the ``posting``
  row, so that a corrected call is not taken for a possibly-created one.
- A run that stops between the steps (crash, Ctrl-C, network loss) finds ``created`` with
  the callId next time and only uploads the media; a ``finished`` call is never sent again.
- The media PUT replaces the media of one call, so it is retried like any idempotent
  request, re-reading the file from disk on each attempt.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from gong_client._journal import Entry, Journal
from gong_client._media import MediaFile, sha256_file
from gong_client.errors import JournalError

__all__ = ["PostCall", "UploadResult", "derive_client_unique_id", "resume_upload"]

logger = logging.getLogger("gong_client")


class PostCall(Protocol):
    """Creates the call: returns ``(callId, requestIds)`` or raises."""

    def __call__(
        self,
        body: dict[str, Any],
        *,
        maybe_created: bool,
        refused: Callable[[], None] | None = None,
    ) -> tuple[str, list[str]]: ...


@dataclass(frozen=True)
class UploadResult:
    """What `GongClient.upload_call` did.

    Attributes
    ----------
    call_id
        Gong's callId.
    url
        The call's page in Gong (``None`` on the ``downloadMediaUrl`` route).
    client_unique_id
        The clientUniqueId the call was created with.
    resumed
        An earlier, interrupted run of this upload was picked up from the journal.
    already_uploaded
        The journal says the call was finished before: nothing was sent this time.
    """

    call_id: str
    url: str | None
    client_unique_id: str
    resumed: bool = False
    already_uploaded: bool = False

    @classmethod
    def from_finished(cls, entry: Entry) -> UploadResult:
        """The result for a call the journal records as finished (nothing sent)."""
        return cls(entry.call_id or "", entry.url, entry.client_unique_id, True, True)

    def to_dict(self) -> dict[str, str | None]:
        """Return ``{"callId": ..., "url": ...}``, what the CLI prints."""
        return {"callId": self.call_id, "url": self.url}


def derive_client_unique_id(audio_path: str | os.PathLike | None, call: Mapping[str, Any]) -> str:
    """Return a stable clientUniqueId for a call that has none.

    Parameters
    ----------
    audio_path
        The recording; its content decides the id (``sha256-<hex>``), not its name or time.
    call
        The call body; with a ``downloadMediaUrl`` and no file, the id is
        ``url-sha256-<hex of the URL>`` (Gong requires that URL to be unique).

    Returns
    -------
    str

    Raises
    ------
    MediaError
        The recording cannot be read.
    """
    if audio_path is not None and not call.get("downloadMediaUrl"):
        return "sha256-" + sha256_file(audio_path)
    url = call.get("downloadMediaUrl")
    if not url:
        raise ValueError("a clientUniqueId needs a recording or a downloadMediaUrl to derive from")
    return "url-sha256-" + hashlib.sha256(str(url).encode()).hexdigest()


def resume_upload(
    journal: Journal,
    base_url: str,
    entry: Entry,
    is_new: bool,
    body: dict[str, Any],
    media: MediaFile | None,
    *,
    post_call: PostCall,
    put_media: Callable[[str], dict[str, Any]],
) -> UploadResult:
    """Take a claimed journal row from where it stands to ``finished``.

    Parameters
    ----------
    journal, base_url, entry, is_new
        The journal, the tenant, the claimed row and whether the claim created it.
    body
        The call body (with its clientUniqueId).
    media
        The checked recording, or ``None`` on the ``downloadMediaUrl`` route.
    post_call
        ``post_call(body, maybe_created=..., refused=...) -> (callId, requestIds)``.
    put_media
        ``put_media(call_id) -> Gong's answer`` for the media step.

    Returns
    -------
    UploadResult
    """
    cuid = entry.client_unique_id
    if entry.state == "finished":
        logger.info("clientUniqueId %s was uploaded before as call %s", cuid, entry.call_id)
        return UploadResult.from_finished(entry)
    if entry.state == "posting":
        forget = (lambda: journal.forget(base_url, cuid)) if is_new else None
        call_id, request_ids = post_call(body, maybe_created=not is_new, refused=forget)
        journal.mark_created(base_url, cuid, call_id, request_ids)
    else:
        call_id = entry.call_id or ""
        if media and entry.media_bytes is not None and entry.media_bytes != media.size_bytes:
            raise JournalError(
                journal.path,
                f"clientUniqueId {cuid!r} was created as call {call_id} from a recording of "
                f"{entry.media_bytes} bytes, but {media.path} has {media.size_bytes}",
            )
        logger.info("resuming call %s (%s) at the media step", call_id, cuid)
    if media is None:
        journal.mark_finished(base_url, cuid, None)
        return UploadResult(call_id, None, cuid, resumed=not is_new)
    answer = put_media(call_id)
    url = answer.get("url") if isinstance(answer.get("url"), str) else None
    journal.mark_finished(base_url, cuid, url)
    return UploadResult(call_id, url, cuid, resumed=not is_new)
