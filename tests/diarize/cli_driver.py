"""Run the ``gong-diarize`` command line many times in one process, each run on its own.

Usage: ``python -m tests.diarize.cli_driver RUNS.json TIMEOUT_S``, where RUNS.json holds a
list of argument lists. Prints one JSON list: per run its exit code, stdout, stderr, and
``escaped`` (the traceback of an exception that got out of the command, or ``"timeout"``).

Starting the command once per file pays the imports each time; this runs the very same
entry point (`gong_client.cli.main`) under one set of imports, with every warning shown
(not only its first occurrence), and an alarm bounding each run.
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import sys
import traceback
import warnings
from pathlib import Path


class _TimedOut(BaseException):
    pass


def _alarm(signum, frame) -> None:
    raise _TimedOut


def run_one(args: list[str], timeout_s: int) -> dict:
    """One run of the command line; what it printed and how it ended."""
    from gong_client.cli import main

    out, err = io.StringIO(), io.StringIO()
    code, escaped = 0, None
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout_s)
    try:
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("always")
            main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except _TimedOut:
        code, escaped = -1, "timeout"
    except BaseException:
        code, escaped = -1, traceback.format_exc()
    finally:
        signal.alarm(0)
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue(), "escaped": escaped}


if __name__ == "__main__":
    runs = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps([run_one(args, int(sys.argv[2])) for args in runs]))
