"""Tuned hyper-parameters, read from the versioned YAML files that ship in `models/`.

Each file is laid out the pyannote way::

    version: 3                     # bumped whenever a tuned number changes
    params:                        # the tuned numbers, grouped by stage
      vad: {onset: 0.5, ...}

The `params` block is loaded into nested frozen dataclasses that the consuming module
declares; a key the dataclass does not know is an error, a key the file omits keeps the
dataclass default.
"""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

import yaml

__all__ = ["ParamsFileError", "build_params", "load_params"]

T = TypeVar("T")


class ParamsFileError(ValueError):
    """A hyper-parameter file is missing, malformed, or names an unknown parameter."""


def load_params(name_or_path: str | Path, cls: type[T]) -> tuple[int, T]:
    """Read a parameter file (a file name inside `models/` or a path) into `cls`.

    Returns
    -------
    (version, params)
        The file's ``version`` and its ``params`` block as an instance of ``cls``.
    """
    path = Path(name_or_path)
    if not path.is_file():
        path = Path(str(resources.files("models").joinpath(str(name_or_path))))
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ParamsFileError(f"{path}: cannot read parameters ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("version"), int):
        raise ParamsFileError(f"{path}: expected a mapping with an integer 'version'")
    unknown = set(document) - {"version", "params"}
    if unknown:
        raise ParamsFileError(f"{path}: unknown top-level keys {sorted(unknown)}")
    return document["version"], build_params(cls, document.get("params") or {}, str(path))


def build_params(cls: type[T], values: dict[str, Any], where: str = "params") -> T:
    """Build the frozen dataclass `cls` from a (nested) mapping, rejecting unknown keys."""
    if not isinstance(values, dict):
        raise ParamsFileError(f"{where}: expected a mapping, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(values) - set(fields)
    if unknown:
        raise ParamsFileError(
            f"{where}: parameter(s) {sorted(unknown)} do not exist; known: {sorted(fields)}"
        )
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            kwargs[key] = build_params(hint, value, f"{where}.{key}")
        elif (
            hint in (int, float)
            and not isinstance(value, (int, float))
            or isinstance(value, bool)
            and hint is not bool
        ):
            raise ParamsFileError(f"{where}.{key}: expected a number, got {value!r}")
        else:
            kwargs[key] = hint(value) if hint in (int, float, bool) else value
    return cls(**kwargs)
