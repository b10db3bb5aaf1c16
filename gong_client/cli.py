"""The ``gong-diarize`` console script: the `diarize` commands, ``upload`` and ``emulator``.

Exit codes
----------
====  ==========================================================================
0     success
1     a `GongError` or `DiarizeError`: one line on stderr (API errors carry Gong's requestId)
2     usage: bad flags or arguments (typer), an invalid call JSON, missing emulator keys
130   interrupted (Ctrl-C); the upload journal stays consistent: run again to resume
====  ==========================================================================

This is the one module where both halves of the project meet: it registers the `diarize`
commands (``timeline``, ``enroll``, ...) and imports the audio side lazily, inside ``upload``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from diarize.cli import EXIT_INTERRUPTED, EXIT_USAGE, cli_errors, fail, progress_hook, register
from diarize.cli_options import diarization_options
from diarize.options import Options
from gong_client._media import Progress, check_media
from gong_client.batch import cli as batch_commands
from gong_client.cli_connection import BaseUrl, OAuthTokenFile, Rate, StateDir, open_client
from gong_client.cli_help import hoist_global_flags, readable_help
from gong_client.client import UploadResult, derive_client_unique_id
from gong_client.errors import GongError

__all__ = ["app", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Who spoke when in call recordings, tied to the call's parties; upload to Gong.",
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"gong-diarize {version('gong-diarize')}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Log requests and retries on stderr (also after the command)."
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Who spoke when in call recordings, tied to the call's parties; upload to Gong."""
    if verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")


@diarization_options
def upload(
    audio: Annotated[Path, typer.Argument(help="The recording (WAV, MP3, MP4, MKV or FLAC).")],
    call: Annotated[Path, typer.Option("--call", help="The call JSON (body of POST /v2/calls).")],
    base_url: BaseUrl = None,
    state_dir: StateDir = None,
    no_diarize: Annotated[
        bool, typer.Option("--no-diarize", help="Send the call JSON as it is, without a timeline.")
    ] = False,
    rate: Rate = 3.0,
    oauth_token_file: OAuthTokenFile = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    *,
    options: Options,
) -> None:
    """Add the speakers timeline, create the call in Gong and upload its recording.

    Credentials come from GONG_ACCESS_KEY and GONG_ACCESS_KEY_SECRET, or GONG_BEARER_TOKEN
    (or --oauth-token-file). Prints {"callId": ..., "url": ...} on stdout. Running it again
    after a failure resumes; a finished call is not sent twice.
    """
    show = not quiet and sys.stderr.isatty()
    with cli_errors((GongError,)):
        try:
            result = _upload(
                audio, call, base_url, state_dir, no_diarize, rate, oauth_token_file, show, options
            )
        except KeyboardInterrupt:
            raise fail(
                "interrupted; the upload journal keeps the progress: run the same command "
                "again to resume",
                EXIT_INTERRUPTED,
            ) from None
    if result.already_uploaded and not quiet:
        typer.echo(
            f"already uploaded: call {result.call_id} (clientUniqueId "
            f"{result.client_unique_id}); nothing was sent",
            err=True,
        )
    sys.stdout.write(json.dumps(result.to_dict()) + "\n")


def _upload(
    audio: Path,
    call_path: Path,
    base_url: str | None,
    state_dir: Path | None,
    no_diarize: bool,
    rate: float,
    oauth_token_file: Path | None,
    show: bool,
    options: Options,
) -> UploadResult:
    from diarize.call import load_call, validate_call

    # The call JSON is checked first, before the credentials and the audio; a missing
    # clientUniqueId is derived from the recording later, so a stand-in is checked now.
    call = load_call(call_path)
    probe = call if call.get("clientUniqueId") else {**call, "clientUniqueId": "derived"}
    validate_call(probe, source=str(call_path), require_timeline_party_ids=False)
    with open_client(base_url, state_dir, rate, oauth_token_file) as client:
        if not call.get("downloadMediaUrl"):
            check_media(audio)
        if not call.get("clientUniqueId"):
            call["clientUniqueId"] = derive_client_unique_id(audio, call)
        done = client.finished_upload(call["clientUniqueId"])
        if done is not None:
            return done
        if not no_diarize and not call.get("speakersTimeline"):
            call = _enrich(audio, call, show, options)
        with _upload_bar(show) as progress:
            return client.upload_call(audio, call, progress=progress)


def _enrich(audio: Path, call: dict, show: bool, options: Options) -> dict:
    import diarize

    with progress_hook(show) as hook:
        result = diarize.process_call(audio, call, options=replace(options, hook=hook))
    if result.timeline_withheld:  # the call goes up without one: say why, and what would help
        typer.echo(f"gong-diarize: {audio}: {result.timeline_withheld}", err=True)
    return result.call


@contextmanager
def _upload_bar(enabled: bool) -> Iterator[Progress | None]:
    """A rich progress bar on stderr for the media step, or nothing when not on a terminal."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("upload"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("upload", total=None)

        def progress(sent_bytes: int, total_bytes: int) -> None:
            bar.update(task, completed=sent_bytes, total=total_bytes)

        yield progress


def emulator(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free one).")] = 8080,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    data_dir: Annotated[Path, typer.Option(help="Where calls and media are stored.")] = Path(
        "gong-emulator"
    ),
    access_key: Annotated[
        str | None, typer.Option(help="Accepted access key (default: GONG_ACCESS_KEY).")
    ] = None,
    access_key_secret: Annotated[
        str | None,
        typer.Option(help="Its secret (default: GONG_ACCESS_KEY_SECRET).", show_default=False),
    ] = None,
    bearer_token: Annotated[
        list[str] | None,
        typer.Option(help="Accepted OAuth token; repeatable (default: GONG_BEARER_TOKEN)."),
    ] = None,
    limit_per_s: Annotated[int, typer.Option(min=1, help="Company-wide requests/s.")] = 3,
    daily_limit: Annotated[int, typer.Option(min=1, help="Company-wide requests/day.")] = 10_000,
    fail_rate: Annotated[float, typer.Option(min=0, max=1, help="Fraction answered 500.")] = 0.0,
    drop_rate: Annotated[float, typer.Option(min=0, max=1, help="Fraction dropped.")] = 0.0,
    throttle_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Fraction answered 429 beyond the limits.")
    ] = 0.0,
    slow_s: Annotated[float, typer.Option(min=0, help="Delay added to answers, seconds.")] = 0.0,
    slow_rate: Annotated[float, typer.Option(min=0, max=1, help="Fraction delayed.")] = 1.0,
    seed: Annotated[int | None, typer.Option(help="Seed of the fault draws.")] = None,
) -> None:
    """Run a local Gong API (the two upload endpoints) for dry runs and tests.

    Prints its base URL on stdout once it accepts connections; Ctrl-C stops it.
    """
    from gong_client.emulator import EmulatorConfig, serve

    env = os.environ
    key = access_key or env.get("GONG_ACCESS_KEY")
    secret = access_key_secret or env.get("GONG_ACCESS_KEY_SECRET")
    tokens = list(bearer_token or []) or [t for t in [env.get("GONG_BEARER_TOKEN")] if t]
    if bool(key) != bool(secret):
        raise fail("give both --access-key and --access-key-secret", EXIT_USAGE)
    if not key and not tokens:
        raise fail(
            "no keys to accept: give --access-key and --access-key-secret or --bearer-token "
            "(or set GONG_ACCESS_KEY and GONG_ACCESS_KEY_SECRET, or GONG_BEARER_TOKEN)",
            EXIT_USAGE,
        )
    try:
        config = EmulatorConfig(
            data_dir,
            access_keys={key: secret} if key and secret else {},
            bearer_tokens=frozenset(tokens),
            limit_per_s=limit_per_s,
            daily_limit=daily_limit,
            fail_rate=fail_rate,
            drop_rate=drop_rate,
            throttle_rate=throttle_rate,
            slow_s=slow_s,
            slow_rate=slow_rate,
            seed=seed,
        )
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from None

    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = exc.strerror or exc
        raise fail(f"{data_dir}: cannot create the data directory ({why})") from None

    def ready(url: str) -> None:
        typer.echo(f"Gong emulator on {url}, data in {data_dir} (Ctrl-C stops)", err=True)
        typer.echo(url)

    try:
        serve(config, host=host, port=port, on_ready=ready)
    except OSError as exc:
        raise fail(f"cannot serve on {host}:{port} ({exc.strerror or exc})") from None
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it shut down for
        typer.echo("Gong emulator stopped", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None


register(app)
app.command("upload")(upload)
app.command("emulator")(emulator)
batch_commands.register(app)


def command() -> Any:
    """The console script's command tree, as a user meets it (readable help)."""
    return readable_help(typer.main.get_command(app))


def main(args: list[str] | None = None) -> None:
    """Entry point of the ``gong-diarize`` console script (`args`: default the command line).

    ``-v`` is accepted after the subcommand too.
    """
    args = sys.argv[1:] if args is None else list(args)
    command().main(args=hoist_global_flags(args), prog_name="gong-diarize")
