"""``gong-diarize voiceprints``: list, show, forget, export and import the stored voiceprints.

Voiceprints are biometric data: these commands show what a print was made from (enrolment
files, learned calls, seconds, band, model), never the embeddings themselves; only ``export``
writes those, to a file only its owner can read, for moving the store to another machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from diarize.cli import EXIT_USAGE, cli_errors, fail

if TYPE_CHECKING:
    from diarize.voiceprints import VoiceprintStore

__all__ = ["app"]

app = typer.Typer(
    help="The stored voiceprints (biometric data, kept only on this machine).",
    no_args_is_help=True,
)

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", "--voiceprints", help="Voiceprint folder (default: per-user)."),
]


def _store(store: Path | None) -> VoiceprintStore:
    from diarize.voiceprints import VoiceprintStore  # numpy and scipy: only when used

    return VoiceprintStore(store)


@app.command("list")
def list_prints(store: StoreOption = None) -> None:
    """One line per voiceprint: key, model, speech, learned calls and their bands."""
    with cli_errors():
        prints = _store(store).prints()
    if not prints:
        typer.echo(f"no voiceprints in {_store(store).directory}", err=True)
        return
    for print_ in prints:
        bands = print_.bands()
        enrolled = f", enrolled from {len(print_.sources)} file(s)" if print_.sources else ""
        typer.echo(
            f"{print_.party_key}\t{print_.model}\t{print_.speech_s:.0f} s\t"
            f"learned from {print_.learned_calls} call(s) "
            f"({bands['wideband']} wideband, {bands['telephone']} telephone){enrolled}"
        )


@app.command("show")
def show(
    key: Annotated[str, typer.Argument(help="The party's Gong userId or e-mail.")],
    store: StoreOption = None,
) -> None:
    """What one voiceprint was made from (JSON, without the embedding)."""
    with cli_errors():
        found = [p for p in _store(store).prints() if p.party_key == _key(key)]
    if not found:
        raise fail(f"no voiceprint for {key!r} in {_store(store).directory}")
    for print_ in found:
        typer.echo(json.dumps(print_.provenance(), indent=2, ensure_ascii=False))


@app.command("forget")
def forget(
    key: Annotated[str, typer.Argument(help="The party's Gong userId or e-mail.")],
    store: StoreOption = None,
) -> None:
    """Delete a party's voiceprints (every embedding model)."""
    with cli_errors():
        count = _store(store).forget(key)
    if not count:
        raise fail(f"no voiceprint for {key!r} in {_store(store).directory}")
    typer.echo(f"forgot {count} voiceprint(s) of {key}", err=True)


@app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="The JSON file to write (owner-only, 0600).")],
    store: StoreOption = None,
) -> None:
    """Write every voiceprint to one file, to move the store to another machine."""
    if not (file.parent if str(file.parent) else Path(".")).is_dir():
        raise fail(f"{file}: the folder to write into does not exist", EXIT_USAGE)
    with cli_errors((OSError,)):
        count = _store(store).export(file)
    typer.echo(f"exported {count} voiceprint(s) to {file}", err=True)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A file written by 'voiceprints export'.")],
    store: StoreOption = None,
) -> None:
    """Store the voiceprints of an export file (replacing those of the same key and model)."""
    with cli_errors((OSError,)):
        count = _store(store).import_(file)
    typer.echo(f"imported {count} voiceprint(s) into {_store(store).directory}", err=True)


def _key(key: str) -> str:
    """A key as the store writes it (e-mail addresses lower-cased)."""
    key = key.strip()
    return key.lower() if "@" in key else key
