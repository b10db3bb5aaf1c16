"""The ``batch`` and ``journal`` commands (registered on the console script by `register`).

Exit codes of ``batch``: 0 when every call is done or skipped, 1 when any failed (each with
its reason in ``summary.json``), 2 for a manifest or option that cannot be used, 130 on
Ctrl-C (outputs and journal stay consistent; the same command resumes).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer

from diarize.cli import EXIT_INTERRUPTED, EXIT_USAGE, fail
from diarize.cli_options import diarization_options
from diarize.options import Options
from gong_client.cli_connection import BaseUrl, OAuthTokenFile, Rate, StateDir, open_client
from gong_client.errors import GongError

__all__ = ["batch", "journal", "register"]


@diarization_options
def batch(
    source: Annotated[
        Path,
        typer.Argument(
            help="A .jsonl or .csv manifest, or a folder of recordings with their call JSON."
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (required unless --dry-run).")
    ] = None,
    upload: Annotated[bool, typer.Option("--upload", help="Upload each call to Gong.")] = False,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: the number of cores).")
    ] = None,
    rttm: Annotated[bool, typer.Option("--rttm", help="Also write each timeline as RTTM.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Check every row and print its call JSON (as JSONL); no work."
        ),
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Work again on calls that failed before.")
    ] = False,
    ray: Annotated[
        str | None,
        typer.Option(help="Run on Ray: local, auto or a cluster address (needs the Ray extra)."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress or table on stderr.")
    ] = False,
    base_url: BaseUrl = None,
    state_dir: StateDir = None,
    rate: Rate = 3.0,
    oauth_token_file: OAuthTokenFile = None,
    *,
    options: Options,
) -> None:
    """Enrich (and upload) every call of a manifest; run again to resume.

    Writes OUT/calls/NAME.json (and .rttm), OUT/summary.json and OUT/summary.html. A rerun
    skips calls whose output is current (same recording, call JSON and options) and, with
    --upload, that the journal holds as uploaded.
    """
    from gong_client.batch.errors import BatchError

    if dry_run:
        _dry_run(source, quiet)
        return
    if out is None:
        raise fail("give --out DIR (where the results go), or --dry-run", EXIT_USAGE)
    try:
        code = _run(
            source, out, upload, workers, rttm, retry_failed, ray, quiet, options,
            (base_url, state_dir, rate, oauth_token_file),
        )  # fmt: skip
    except BatchError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except GongError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail(
            f"interrupted; finished calls are kept in {out} and the upload journal: run the "
            "same command again to resume",
            EXIT_INTERRUPTED,
        ) from None
    raise typer.Exit(code)


def _run(
    source: Path,
    out: Path,
    upload: bool,
    workers: int | None,
    rttm: bool,
    retry_failed: bool,
    ray: str | None,
    quiet: bool,
    options: Options,
    connection: tuple,
) -> int:
    from gong_client.batch.progress import progress_bar
    from gong_client.batch.runner import run_batch

    client = open_client(*connection) if upload else None
    try:
        with progress_bar(not quiet and sys.stderr.isatty()) as show:
            result = run_batch(
                source,
                out,
                options=options,
                rttm=rttm,
                workers=workers,
                upload=upload,
                client=client,
                retry_failed=retry_failed,
                ray=ray,
                on_progress=show,
            )
    finally:
        if client is not None:
            client.close()
    if not quiet:
        typer.echo(result.table, err=True)
        typer.echo(f"summary: {result.summary_path} and {result.html_path}", err=True)
    return result.exit_code


def _dry_run(source: Path, quiet: bool) -> None:
    """Print each valid row as a JSONL manifest line, each bad one on stderr."""
    from gong_client.batch.errors import BatchError
    from gong_client.batch.manifest import BadRow, read_manifest

    good = bad = 0
    write = sys.stdout.write
    try:
        for entry in read_manifest(source):
            if isinstance(entry, BadRow):
                bad += 1
                typer.echo(f"gong-diarize: {entry.error}", err=True)
                continue
            good += 1
            line = {"audio": str(entry.audio.absolute()), "call": entry.call}
            write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
    except BatchError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except KeyboardInterrupt:
        raise fail("interrupted", EXIT_INTERRUPTED) from None
    if not quiet:
        rows = "row" if bad == 1 else "rows"
        typer.echo(f"dry run: {good} calls ready, {bad} {rows} with problems", err=True)
    if bad:
        raise typer.Exit(1)


def journal(
    state_dir: StateDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List what the upload journal holds: each call's state (posting, created, finished)."""
    from gong_client._journal import Journal, default_state_dir
    from gong_client.errors import JournalError

    folder = state_dir if state_dir is not None else default_state_dir()
    if not (folder / Journal.FILENAME).is_file():
        typer.echo(
            f"no uploads recorded yet ({folder / Journal.FILENAME} does not exist)", err=True
        )
        return
    try:
        entries = Journal(folder).entries()
    except JournalError as exc:
        raise fail(str(exc)) from None
    for entry in entries:
        updated = datetime.fromtimestamp(entry.updated_at, timezone.utc)
        row = {
            "state": entry.state,
            "clientUniqueId": entry.client_unique_id,
            "callId": entry.call_id,
            "url": entry.url,
            "baseUrl": entry.base_url,
            "updated": updated.isoformat(timespec="seconds"),
        }
        if as_json:
            typer.echo(json.dumps(row))
        else:
            typer.echo(
                f"{entry.state:<9} {entry.call_id or '-':<22} {entry.client_unique_id}  "
                f"{row['updated']}  {entry.base_url}"
            )
    if not as_json:
        counts: dict[str, int] = {}
        for entry in entries:
            counts[entry.state] = counts.get(entry.state, 0) + 1
        listed = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "empty"
        typer.echo(f"{len(entries)} calls in {folder / Journal.FILENAME}: {listed}", err=True)


def register(app: typer.Typer) -> None:
    """Add the ``batch`` and ``journal`` commands to `app`."""
    app.command("batch")(batch)
    app.command("journal")(journal)
