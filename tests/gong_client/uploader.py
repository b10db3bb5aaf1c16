"""A client process for the crash tests: uploads one call and can die at a chosen point.

Usage: ``python -m tests.gong_client.uploader BASE_URL STATE_DIR AUDIO CUID MODE``, with
MODE ``normal``, ``die-after-post`` (SIGKILL itself once Gong created the call, before the
journal learns the callId) or ``hang-in-media`` (write ``AUDIO.started`` at the first media
chunk, then wait to be killed). Credentials come from the environment. An upload that gives
up on a transient error (`TRANSIENT`: no usable answer after the allowed attempts) exits with
`GAVE_UP`, so that a test can run it again as a user would.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from gong_client import GongClient
from gong_client._journal import Journal
from gong_client.errors import RateLimited, ServerError, TransportError
from tests.gong_client.helpers import make_call

TRANSIENT = (TransportError, ServerError, RateLimited)
"""What a client gives up on for now; running the upload again resumes it from the journal."""
GAVE_UP = 75  # EX_TEMPFAIL


def main() -> None:
    base_url, state_dir, audio, cuid, mode = sys.argv[1:6]
    if mode == "die-after-post":
        Journal.mark_created = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)

    def progress(sent_bytes: int, total_bytes: int) -> None:
        if mode == "hang-in-media":
            Path(audio + ".started").touch()
            time.sleep(600)

    with GongClient(base_url=base_url, state_dir=state_dir) as client:
        try:
            result = client.upload_call(audio, make_call(cuid), progress=progress)
        except TRANSIENT as exc:
            print(f"gave up for now: {exc}", file=sys.stderr)
            sys.exit(GAVE_UP)
    print(json.dumps(result.to_dict()))


if __name__ == "__main__":
    main()
