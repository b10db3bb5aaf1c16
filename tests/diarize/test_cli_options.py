"""The diarization options are defined once and reach every command that diarizes."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from diarize.cli_options import _NAMES, options_from_cli
from gong_client.cli import app


def _command(name: str) -> Any:
    return typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["timeline", "upload"])
def test_every_shared_option_is_on_the_command_with_a_description(name: str) -> None:
    params = {p.name: p for p in _command(name).params}
    for option in _NAMES:
        assert option in params, f"{name} lacks --{option.replace('_', '-')}"
        assert params[option].help, f"{name} --{option.replace('_', '-')} has no description"


def test_values_become_options() -> None:
    options = options_from_cli(rep_channel="right", mode="channel", unknown="drop", num_speakers=2)
    assert (options.rep_channel, options.mode, options.unknown) == (1, "channel", "drop")
    assert options.num_speakers == 2
    assert options_from_cli(rep_channel="left").rep_channel == 0
    assert options_from_cli().rep_channel is None
