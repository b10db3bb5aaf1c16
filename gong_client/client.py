"""`GongClient`: the two-step upload (``POST /v2/calls``, ``PUT /v2/calls/{id}/media``).

Every request goes through one path (`GongClient._request`): the shared `RateLimiter`, then
`send_with_retry` (bounded, jittered backoff on 5xx and transport errors, ``Retry-After`` on
429, never a retry of 400/401/403/409), then a typed error for a final error status.

The exactly-once upload flow (journal, clientUniqueId, what is retried and why) is described
in ``_upload.py``.

The client is synchronous and thread-safe: threads share its connection pool, limiter and
journal, and uploads of the same clientUniqueId are serialised. There is no async twin.
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx

from gong_client._auth import OAuthToken, auth_from_env
from gong_client._config import DEFAULT_RATE_PER_S, resolve_base_url
from gong_client._journal import Journal, make_owner
from gong_client._media import MediaBody, MediaFile, Progress, check_media
from gong_client._ratelimit import RateLimiter
from gong_client._recover import find_call_id
from gong_client._responses import error_from_response, success_body
from gong_client._retry import Outcome, RetryPolicy, send_with_retry
from gong_client._upload import UploadResult, derive_client_unique_id, resume_upload
from gong_client.errors import InvalidCallError

__all__ = ["GongClient", "UploadResult", "derive_client_unique_id"]

logger = logging.getLogger("gong_client")

CALLS_PATH = "/v2/calls"


class GongClient:
    """A careful client for Gong's call-upload endpoints.

    Parameters
    ----------
    auth
        `BasicAuth`, `BearerAuth`, an `OAuthToken` (whose tenant URL is then used), any
        `httpx.Auth`, or ``None`` to read ``GONG_ACCESS_KEY``/``GONG_ACCESS_KEY_SECRET`` or
        ``GONG_BEARER_TOKEN``.
    base_url
        The tenant's API URL; else ``GONG_BASE_URL``, the OAuth tenant URL, the default.
    rate_per_s
        Client-side request rate (Gong's company-wide default is 3/s).
    limiter
        A `RateLimiter` to share with other clients; overrides ``rate_per_s``.
    retry
        Retry bounds and backoff (`RetryPolicy`).
    state_dir
        Where the upload journal lives; the platform's state directory when ``None``.
    timeout_s, media_timeout_s
        Per-request timeout of the JSON requests, and read/write timeout of the media PUT.
    validate
        Check call bodies against the contract before sending (``diarize.call``).
    env
        The environment for credentials and ``GONG_BASE_URL``; ``os.environ`` by default.
    sleep, seed
        Sleep function for backoff and limiter, and a seed for the backoff jitter.
    transport
        An httpx transport to send through (the default opens real connections).
    """

    def __init__(
        self,
        auth: httpx.Auth | OAuthToken | None = None,
        *,
        base_url: str | None = None,
        rate_per_s: float = DEFAULT_RATE_PER_S,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        state_dir: str | os.PathLike | None = None,
        timeout_s: float = 30.0,
        media_timeout_s: float = 600.0,
        validate: bool = True,
        env: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        env = os.environ if env is None else env
        token_base_url = None
        if isinstance(auth, OAuthToken):
            token_base_url, auth = auth.base_url, auth.auth
        self.auth = auth_from_env(env) if auth is None else auth
        self.base_url = resolve_base_url(base_url, env=env, token_base_url=token_base_url)
        self.limiter = limiter if limiter is not None else RateLimiter(rate_per_s, sleep=sleep)
        self.retry = retry if retry is not None else RetryPolicy()
        self.validate = validate
        self._state_dir = state_dir
        self._journal: Journal | None = None
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._owner = make_owner(secrets.token_hex(4))
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._media_timeout = httpx.Timeout(media_timeout_s, connect=min(30.0, timeout_s))
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=self.auth,
            timeout=timeout_s,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": "gong-diarize"},
        )

    def __repr__(self) -> str:
        return (
            f"GongClient(base_url={self.base_url!r}, auth={self.auth!r}, limiter={self.limiter!r})"
        )

    def __enter__(self) -> GongClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    @property
    def journal(self) -> Journal:
        """The upload journal (opened on first use)."""
        with self._guard:
            if self._journal is None:
                self._journal = Journal(self._state_dir)
            return self._journal

    def finished_upload(self, client_unique_id: str) -> UploadResult | None:
        """Return the result of an upload the journal records as finished, else ``None``.

        Lets a caller skip expensive preparation (diarization) of a call already in Gong.
        """
        entry = self.journal.get(self.base_url, client_unique_id)
        if entry is None or entry.state != "finished":
            return None
        return UploadResult.from_finished(entry)

    # -- the two API steps -------------------------------------------------------------

    def add_call(self, call: Mapping[str, Any]) -> str:
        """Create a call (``POST /v2/calls``) and return its callId.

        Parameters
        ----------
        call
            The ``NewCallAddingRequest`` body; must carry a ``clientUniqueId``.

        Returns
        -------
        str
            The new callId.

        Raises
        ------
        InvalidCallError
            The body breaks the contract (nothing was sent).
        ApiError, TransportError
            Gong refused it, or no answer came after the allowed attempts.
        """
        body = self.prepare_call(call)
        return self._post_call(body, maybe_created=False)[0]

    def add_call_media(
        self, call_id: str, path: str | os.PathLike, *, progress: Progress | None = None
    ) -> dict[str, Any]:
        """Upload a recording for a created call (``PUT /v2/calls/{id}/media``), streamed.

        Parameters
        ----------
        call_id
            The callId returned by `add_call`.
        path
            A WAV, MP3, MP4, MKV or FLAC file of at most 1.5 GB (judged by its content).
        progress
            Optional ``progress(sent_bytes, total_bytes)`` callback.

        Returns
        -------
        dict
            Gong's answer: ``requestId``, ``callId`` and ``url``.

        Raises
        ------
        MediaError
            The file would be refused (format, size) or cannot be read; nothing was sent.
        ApiError, TransportError
        """
        return self._put_media(call_id, check_media(path), progress)

    def prepare_call(self, call: Mapping[str, Any]) -> dict[str, Any]:
        """Return a detached, JSON-clean copy of a call body, checked against the contract.

        Raises
        ------
        InvalidCallError
            With every problem found (each with its JSON path).
        """
        if not isinstance(call, Mapping):
            raise TypeError(f"a call must be a mapping, got {type(call).__name__}")
        try:
            body = json.loads(json.dumps(call, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise InvalidCallError([f"$: not JSON data ({exc})"]) from None
        if self.validate:
            from diarize.call import problems_in_call

            problems = problems_in_call(body)
            if problems:
                raise InvalidCallError(problems)
        return body

    # -- the whole flow ----------------------------------------------------------------

    def upload_call(
        self,
        audio_path: str | os.PathLike | None,
        call: Mapping[str, Any],
        *,
        progress: Progress | None = None,
    ) -> UploadResult:
        """Create a call and upload its recording, exactly once, resuming earlier attempts.

        Parameters
        ----------
        audio_path
            The recording; may be ``None`` when the call has a ``downloadMediaUrl`` (Gong then
            fetches the media and the media step is skipped).
        call
            The call body. Without a ``clientUniqueId``, ``sha256-<hex of the file>`` is used
            (or of the ``downloadMediaUrl`` when there is no file).
        progress
            Optional ``progress(sent_bytes, total_bytes)`` callback for the media step.

        Returns
        -------
        UploadResult

        Raises
        ------
        InvalidCallError, MediaError
            Caught before anything is sent.
        JournalError
            The journal cannot be used, another process is uploading the same call, or the
            recording no longer matches the one a created call was started with.
        ApiError, TransportError
            The journal keeps the progress; running the same upload again resumes it.
        """
        call = dict(call)
        url_route = bool(call.get("downloadMediaUrl"))
        media = None if url_route or audio_path is None else check_media(audio_path)
        if media is None and not url_route:
            raise ValueError("audio_path is required unless the call has a downloadMediaUrl")
        if not call.get("clientUniqueId"):
            source = None if media is None else media.path
            call["clientUniqueId"] = derive_client_unique_id(source, call)
        body = self.prepare_call(call)
        cuid = body["clientUniqueId"]
        with self._serialised(cuid):
            journal = self.journal
            entry, is_new = journal.claim(
                self.base_url, cuid, self._owner, media_bytes=media.size_bytes if media else None
            )
            try:
                return resume_upload(
                    journal,
                    self.base_url,
                    entry,
                    is_new,
                    body,
                    media,
                    post_call=self._post_call,
                    put_media=lambda call_id: self._put_media(call_id, media, progress),
                )
            finally:
                journal.release(self.base_url, cuid, self._owner)

    # -- requests ----------------------------------------------------------------------

    def _request(self, method: str, path: str, build: Callable[[], httpx.Request]) -> Outcome:
        def send_once() -> httpx.Response:
            request = build()
            self.limiter.acquire()
            return self._http.send(request)

        return send_with_retry(
            send_once,
            method=method,
            path=path,
            policy=self.retry,
            limiter=self.limiter,
            rng=self._rng,
            sleep=self._sleep,
        )

    def _post_call(
        self,
        body: dict[str, Any],
        *,
        maybe_created: bool,
        refused: Callable[[], None] | None = None,
    ) -> tuple[str, list[str]]:
        """POST the call; return ``(callId, requestIds)`` (the rules are in ``_upload.py``)."""
        outcome = self._request(
            "POST", CALLS_PATH, lambda: self._http.build_request("POST", CALLS_PATH, json=body)
        )
        response = outcome.response
        request_ids = [r for r in outcome.request_ids if r]
        if response.is_success:
            answer = success_body(response, method="POST", path=CALLS_PATH, needs="callId")
            logger.info("created call %s (%s)", answer["callId"], body["clientUniqueId"])
            return answer["callId"], [*request_ids, str(answer.get("requestId", ""))]
        uncertain = maybe_created or outcome.uncertain
        note = ""
        if response.status_code == 409 and uncertain:
            found = self._find_existing(body)
            if found is not None:
                logger.info("call %s was created by an earlier attempt; found it", found)
                return found, request_ids
            note = (
                "an earlier attempt may have created this call but its callId could not be "
                f"listed; look for clientUniqueId {body['clientUniqueId']!r} in Gong"
                + (f" (earlier requestIds: {', '.join(request_ids)})" if request_ids else "")
            )
        if refused is not None and not uncertain and response.status_code < 500:
            refused()
        raise error_from_response(response, method="POST", path=CALLS_PATH, note=note)

    def _find_existing(self, body: dict[str, Any]) -> str | None:
        def fetch(query: dict[str, str]) -> httpx.Response:
            def build() -> httpx.Request:
                return self._http.build_request("GET", CALLS_PATH, params=query)

            response = self._request("GET", CALLS_PATH, build).response
            if response.status_code >= 500 or response.status_code == 429:
                # a lookup that failed for now says nothing about the call: no ConflictError
                # that sends the user to search Gong by hand, but the transient error, and the
                # journal still says 'posting', so running the upload again looks once more
                raise error_from_response(
                    response,
                    method="GET",
                    path=CALLS_PATH,
                    note=f"looking up the callId of clientUniqueId {body['clientUniqueId']!r}, "
                    "which an earlier attempt may have created; run the upload again",
                )
            return response

        return find_call_id(body, fetch)

    def _put_media(
        self, call_id: str, media: MediaFile, progress: Progress | None
    ) -> dict[str, Any]:
        if not isinstance(call_id, str) or not call_id.strip():
            raise ValueError(f"call_id must be a non-empty string, got {call_id!r}")
        path = f"{CALLS_PATH}/{quote(call_id.strip(), safe='')}/media"

        def build() -> httpx.Request:
            body = MediaBody(media, progress)
            headers = {
                "Content-Type": body.content_type,
                "Content-Length": str(body.content_length),
            }
            return self._http.build_request(
                "PUT", path, content=body, headers=headers, timeout=self._media_timeout
            )

        response = self._request("PUT", path, build).response
        if not response.is_success:
            raise error_from_response(response, method="PUT", path=path)
        answer = success_body(response, method="PUT", path=path, needs="callId")
        logger.info("uploaded %s bytes of media for call %s", media.size_bytes, call_id)
        return answer

    # -- helpers -----------------------------------------------------------------------

    @contextmanager
    def _serialised(self, cuid: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(cuid, threading.Lock())
        with lock:
            yield
