"""What a person meets in ``gong-diarize``: readable types in ``--help``, ``-v`` anywhere.

typer labels values with Python's names (``<bool>`` beside a flag, ``<list[Path]>``,
``{audio}`` for a required argument). `readable_help` relabels every parameter of the built
command tree once, so that each command, present and future, reads the same: a flag shows
no value, others ``PATH``, ``TEXT``, ``INTEGER``, ``NUMBER`` or their choices, and arguments
appear by their upper-case name.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, get_args

from typer.core import TyperArgument

__all__ = ["GLOBAL_FLAGS", "hoist_global_flags", "readable_help", "value_label"]

GLOBAL_FLAGS = ("-v", "--verbose")
"""Options of the root command that are also accepted after the subcommand."""


def hoist_global_flags(args: list[str]) -> list[str]:
    """`args` with the `GLOBAL_FLAGS` moved before the subcommand (none after ``--`` moves)."""
    cut = args.index("--") if "--" in args else len(args)
    head, tail = args[:cut], args[cut:]
    flags = [arg for arg in head if arg in GLOBAL_FLAGS]
    return flags + [arg for arg in head if arg not in GLOBAL_FLAGS] + tail


def value_label(param: Any) -> str:
    """How typer parameter `param` reads in help: "" for a flag, else ``PATH``, ``add|drop``..."""
    if getattr(param, "is_flag", False):
        return ""
    kind = param.type_descriptor
    element = kind.annotation
    if kind.is_list and get_args(element):
        element = get_args(element)[0]
    if kind.is_choice:
        label = "|".join(str(getattr(c, "value", c)) for c in kind.choices or ())
    elif kind.is_path or (isinstance(element, type) and issubclass(element, PurePath)):
        label = "PATH"
    elif isinstance(element, type) and issubclass(element, bool):
        label = "BOOLEAN"
    elif isinstance(element, type) and issubclass(element, int):
        label = "INTEGER"
    elif isinstance(element, type) and issubclass(element, float):
        label = "NUMBER"
    else:
        label = "TEXT"
    many = kind.is_list or param.nargs != 1 or getattr(param, "multiple", False)
    return f"{label}..." if many else label


class _ReadableArgument(TyperArgument):
    """An argument shown by its upper-case name in the usage line (``AUDIO``, not ``{audio}``)
    and by `value_label` in the type column."""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw + ("..." if self.nargs != 1 else "")
        return name if self.required else f"[{name}]"

    def display_type_rich(self, ctx: Any) -> str | None:
        return value_label(self)


def readable_help(command: Any) -> Any:
    """Relabel the parameters of click `command` and all its subcommands in place; return it."""
    context = command.context_class(command, **command.context_settings)
    extra = [command.get_help_option(context)]  # made on first use, then kept
    for param in [*command.params, *filter(None, extra)]:
        if isinstance(param, TyperArgument):
            param.__class__ = _ReadableArgument
            param.metavar = (param.name or "value").upper()
        elif getattr(param, "param_type_name", "") == "option":
            param.metavar = value_label(param)
    for sub in (getattr(command, "commands", None) or {}).values():
        readable_help(sub)
    return command
