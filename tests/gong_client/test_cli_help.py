"""The console script as a newcomer meets it: --version, described options, readable help,
-v after the command, and --trust-pipeline refusing foreign pipeline code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import version

import pytest
import soundfile as sf
import yaml
from click.testing import CliRunner

from diarize.example import example_call, load_sample
from gong_client.cli import command
from gong_client.cli_help import hoist_global_flags


def _invoke(args: list[str], **kwargs):
    """Run the console script's own command tree (typer's runner takes only a typer app)."""
    return CliRunner().invoke(command(), args, **kwargs)


def _commands():
    root = command()
    return (
        [((), root)]
        + [((name,), sub) for name, sub in root.commands.items()]
        + [
            ((name, inner), subsub)
            for name, sub in root.commands.items()
            for inner, subsub in (getattr(sub, "commands", None) or {}).items()
        ]
    )


def test_version_is_the_installed_one() -> None:
    result = _invoke(["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"gong-diarize {version('gong-diarize')}"


def test_every_option_and_argument_is_described() -> None:
    missing = [
        f"{' '.join(path) or 'gong-diarize'} {param.name}"
        for path, cmd in _commands()
        for param in cmd.params
        if not (getattr(param, "help", None) or "").strip()
    ]
    assert missing == []


@pytest.mark.parametrize("path", [path for path, _ in _commands()], ids=lambda p: " ".join(p))
def test_help_shows_types_a_person_reads(path) -> None:
    result = _invoke([*path, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert not re.search(r"<(bool|str|int|float|path|list)", result.output), result.output
    usage = next(line for line in result.output.splitlines() if "Usage:" in line)
    assert "{" not in usage, usage


def test_verbose_moves_before_the_command_but_not_past_a_double_dash() -> None:
    assert hoist_global_flags(["timeline", "a.wav", "-v", "--call", "c.json"]) == [
        "-v",
        "timeline",
        "a.wav",
        "--call",
        "c.json",
    ]
    assert hoist_global_flags(["enroll", "--", "-v"]) == ["enroll", "--", "-v"]


def test_verbose_after_the_command_works_in_the_console_script(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gong_client", "timeline", "a.wav", "--call", "gone.json", "-v"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 2
    assert "gone.json: invalid call metadata: $: file not found" in done.stderr
    assert "No such option" not in done.stderr


def test_a_foreign_pipeline_is_refused_in_one_line_without_trust(tmp_path) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    config = {"pipeline": {"name": "someones_package.Pipeline", "params": {}}}
    (clone / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    samples, sample_rate, _ = load_sample()
    sf.write(tmp_path / "mono.wav", samples, sample_rate)
    (tmp_path / "call.json").write_text(json.dumps(example_call()), encoding="utf-8")
    args = ["timeline", str(tmp_path / "mono.wav"), "--call", str(tmp_path / "call.json")]
    result = _invoke([*args, "--pipeline", str(clone), "-q"])
    assert result.exit_code == 1, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "someones_package.Pipeline" in line and "--trust-pipeline" in line
    trusted = _invoke([*args, "--pipeline", str(clone), "--trust-pipeline"])
    assert trusted.exit_code == 1 and "--trust-pipeline" not in trusted.stderr  # tried, not refused
