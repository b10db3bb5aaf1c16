"""The ``timeline`` command: a recording and its call JSON in, the enriched call JSON out.

This, `diarize.cli_options` (the options every command shares) and `diarize.voiceprint_cli`
(``gong-diarize voiceprints ...``) are the only modules of `diarize` that print, exit or
import typer. Exit codes:

====  ==========================================================
0     success
1     a `DiarizeError` (unreadable audio, unmappable parties, ...)
2     usage errors and call JSON that breaks the contract
130   interrupted (Ctrl-C)
====  ==========================================================

`register` adds the commands to a typer app; the console script (`gong_client.cli`) builds
the app from these commands and the upload commands.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from diarize.cli_options import diarization_options
from diarize.errors import CallValidationError, DiarizeError
from diarize.options import Options

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_USAGE", "cli_errors", "register", "write_atomic"]

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    """Print one line on stderr and return the `typer.Exit` to raise."""
    typer.echo(f"gong-diarize: error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def cli_errors(extra: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Turn the library's errors (and `extra` ones) into one line on stderr and an exit code."""
    try:
        yield
    except CallValidationError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except (DiarizeError, *extra) as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail("interrupted", EXIT_INTERRUPTED) from None


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file, so a failure leaves nothing half-written."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def progress_hook(enabled: bool) -> Iterator[Callable[..., None] | None]:
    """A rich progress bar on stderr fed by the library's ``hook(step, completed, total)``."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    tasks: dict[str, Any] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} s"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:

        def hook(step: str, completed: int = 0, total: int = 0, **_: Any) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total or None)
            bar.update(tasks[step], completed=completed, total=total or None)

        yield hook


def _check_output_paths(*paths: Path | None) -> None:
    for path in paths:
        if path is not None and not (path.parent if str(path.parent) else Path(".")).is_dir():
            raise fail(f"{path}: the folder to write into does not exist", EXIT_USAGE)


@diarization_options
def timeline(
    audio: Annotated[
        Path, typer.Argument(help="The recording (WAV, FLAC, MP3, MP4, MKV, OGG, M4A).")
    ],
    call: Annotated[Path, typer.Option("--call", help="The call JSON (body of POST /v2/calls).")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here, not stdout.")
    ] = None,
    rttm: Annotated[
        Path | None, typer.Option("--rttm", help="Also write the timeline as RTTM.")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No summary or progress on stderr.")
    ] = False,
    *,
    options: Options,
) -> None:
    """Add who-spoke-when (speakersTimeline) to a call's Gong metadata."""
    from diarize.call import load_call, validate_call
    from diarize.pipeline import process_call

    _check_output_paths(output, rttm)
    with cli_errors():
        call_json = load_call(call)
        validate_call(call_json, source=str(call), require_timeline_party_ids=False)
        with progress_hook(not quiet and sys.stderr.isatty()) as hook:
            options = replace(options, hook=hook)
            result = process_call(audio, call_json, options=options)
        text = json.dumps(result.call, indent=2, ensure_ascii=False) + "\n"
        if rttm is not None:
            write_atomic(rttm, result.to_rttm())
        if output is not None:
            write_atomic(output, text)
        else:
            sys.stdout.write(text)
    if not quiet:
        typer.echo(format_summary(audio, result), err=True)


def format_summary(audio: Path, result: Any) -> str:
    """Human-readable lines about a `CallResult`: layout, mapping, timeline size."""
    from diarize.parties import describe_party

    parties = {p.get("partyId"): p for p in result.call.get("parties", [])}
    lines = [f"{audio}: {result.layout.value}, {result.duration_s:.1f} s, mode {result.mode}"]
    for item in result.assignments:
        target = (
            describe_party(parties[item.party_id])
            if item.party_id in parties
            else "not identified"
            if item.rule in ("unidentified", "two-voices")
            else "dropped"
        )
        score = "" if item.score is None else f", score {item.score:.2f}"
        if item.learned_calls:
            score += f", print learned from {item.learned_calls} call(s)"
        elif item.learned_calls == 0:
            score += ", enrolled print"
        lines.append(f"  {item.speaker} -> {target} [{item.rule}{score}]")
    if getattr(result, "learning", None) is not None:
        lines.append(f"  {result.learning.describe()}")
    if result.timeline_withheld:
        lines.append(f"  {result.timeline_withheld}")
    elif result.mode == "timeline":
        precise = "precise" if result.precise else "not precise (Gong refines boundaries)"
        lines.append(f"  {len(result.segments)} segments, {precise}")
    return "\n".join(lines)


def enroll(
    audio: Annotated[list[Path], typer.Argument(help="Recordings of the party's voice.")],
    party: Annotated[str, typer.Option("--party", help="The party's Gong userId or e-mail.")],
    store: Annotated[
        Path | None, typer.Option("--store", help="Voiceprint folder (default: per-user).")
    ] = None,
) -> None:
    """Store a voiceprint of a party's voice, to tell that party apart in mono recordings."""
    from diarize.voiceprints import enroll as enroll_voice

    with cli_errors(), progress_hook(sys.stderr.isatty()) as hook:
        path = enroll_voice(party, audio, store, hook=hook)
    typer.echo(f"enrolled {party}: {path}", err=True)


def register(app: typer.Typer) -> None:
    """Add the `diarize` commands to `app`."""
    from diarize.voiceprint_cli import app as voiceprints

    app.command("timeline")(timeline)
    app.command("enroll")(enroll)
    app.add_typer(voiceprints, name="voiceprints")
