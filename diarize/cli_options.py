"""The diarization options every command shares (``timeline``, ``upload``, ``batch``).

They are defined once, here, as typer parameters. `diarization_options` adds them to a
command's signature and hands the command one `Options` built from them, so a new option
(or a new help text) reaches every command at once:

```python
@diarization_options
def timeline(audio: Path, ..., options: Options) -> None: ...
```
"""

import functools
import inspect
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from diarize.options import Options

__all__ = ["Mode", "Side", "Unknown", "diarization_options", "options_from_cli"]

F = TypeVar("F", bound=Callable[..., Any])


class Mode(str, Enum):
    timeline = "timeline"
    channel = "channel"


class Side(str, Enum):
    left = "left"
    right = "right"


class Unknown(str, Enum):
    safe = "safe"
    add = "add"
    drop = "drop"


_PANEL = "Diarization"


def _option(*names: str, **kwargs: Any) -> typer.models.OptionInfo:
    return typer.Option(*names, rich_help_panel=_PANEL, **kwargs)


# (name, annotation, default): the order is the order in --help.
_PARAMETERS: list[tuple[str, Any, Any]] = [
    (
        "mode",
        Annotated[
            Mode,
            _option(help="timeline: add speakersTimeline; channel: only set mediaChannelId."),
        ],
        Mode.timeline,
    ),
    (
        "rep_channel",
        Annotated[Side | None, _option(help="The rep's channel, overriding mediaChannelId.")],
        None,
    ),
    (
        "pipeline",
        Annotated[
            str | None,
            _option(help="Mono diarization: a pyannote id or local directory (default: bundled)."),
        ],
        None,
    ),
    (
        "trust_pipeline",
        Annotated[
            bool,
            _option(
                "--trust-pipeline",
                help="Load a --pipeline whose config.yaml names code outside pyannote.audio "
                "and gong-diarize (refused otherwise: loading runs that code).",
            ),
        ],
        False,
    ),
    (
        "hf_token",
        Annotated[
            str | None,
            _option(envvar="HF_TOKEN", show_default=False, help="Token for --pipeline ids."),
        ],
        None,
    ),
    (
        "num_speakers",
        Annotated[
            int | None,
            _option(min=1, help="Exact number of speakers in a mono recording, if known."),
        ],
        None,
    ),
    (
        "min_speakers",
        Annotated[int | None, _option(min=1, help="At least this many speakers (mono).")],
        None,
    ),
    (
        "max_speakers",
        Annotated[
            int | None,
            _option(min=1, help="At most this many speakers (mono; default: the party count)."),
        ],
        None,
    ),
    (
        "unknown",
        Annotated[
            Unknown,
            _option(
                help="Speakers matching no party. safe: when none can be tied to a party, send "
                "no speakersTimeline (Gong separates speakers itself), else add; add: new "
                "parties 'Speaker N'; drop: leave their speech out."
            ),
        ],
        Unknown.safe,
    ),
    (
        "exclusive",
        Annotated[bool, _option(help="One speaker at a time: no overlapping segments.")],
        False,
    ),
    (
        "voiceprints",
        Annotated[
            Path | None,
            _option(help="Voiceprint folder (default: per-user; see 'voiceprints list')."),
        ],
        None,
    ),
    (
        "learn_voiceprints",
        Annotated[
            bool,
            _option(
                "--learn-voiceprints",
                help="Learn the rep's voiceprint from dual-channel calls with a known rep "
                "channel (the rep needs a userId or emailAddress); mono calls then find the "
                "rep by voice. Biometric data, kept only on this machine.",
            ),
        ],
        False,
    ),
    (
        "device",
        Annotated[str | None, _option(help="cpu or cuda (default: cuda when available).")],
        None,
    ),
    (
        "batch_size",
        Annotated[int | None, _option(min=1, help="Chunks per model forward pass (diarization).")],
        None,
    ),
]
_NAMES = [name for name, _, _ in _PARAMETERS]


def options_from_cli(**values: Any) -> Options:
    """Build `Options` from the shared command-line values (enums become plain strings)."""
    rep_channel = values.pop("rep_channel", None)
    if rep_channel is not None:
        values["rep_channel"] = 0 if Side(rep_channel) is Side.left else 1
    for name in ("mode", "unknown"):
        if isinstance(values.get(name), Enum):
            values[name] = values[name].value
    return Options(**values)


def diarization_options(command: F) -> F:
    """Add the shared diarization options to a typer command.

    `command` declares a keyword parameter ``options: Options``; the returned function takes
    the individual options instead (as typer sees them) and calls `command` with one `Options`.
    """
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "options"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=hint)
        for name, hint, default in _PARAMETERS
    ]
    # Keep the command's own options first, then the shared ones, so --help reads naturally.
    parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + added

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        shared = {name: kwargs.pop(name) for name in _NAMES if name in kwargs}
        return command(**kwargs, options=options_from_cli(**shared))

    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper  # type: ignore[return-value]
