"""Every error the `diarize` package raises on purpose.

```
DiarizeError                      root: the CLI prints it on one line and exits 1
├── CallValidationError           the call JSON breaks the Gong contract (.problems)
├── AudioLoadError                a recording cannot be read (.path, .reason)
├── ChannelLayoutError            the channels cannot be used as asked
├── PartyMappingError             speakers or channels cannot be tied to parties
├── ModelLoadError                model weights or a pipeline cannot be loaded
└── ConfigError                   a hyper-parameter file is malformed
```

Misuse of the API (a wrong type, an impossible argument) raises `ValueError` or
`TypeError` instead, so that `except DiarizeError` never hides a programming bug.
"""

from __future__ import annotations

from pathlib import Path

from gong_client.contract import Problem, describe_problems

__all__ = [
    "AudioLoadError",
    "CallValidationError",
    "ChannelLayoutError",
    "ConfigError",
    "DiarizeError",
    "ModelLoadError",
    "PartyMappingError",
    "Problem",
    "describe_problems",
]


class DiarizeError(Exception):
    """Root of the errors raised by `diarize`; its message is one line meant for a user."""


class CallValidationError(DiarizeError):
    """The call metadata does not satisfy the `POST /v2/calls` contract."""

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(describe_problems(self.problems, source))


class AudioLoadError(DiarizeError):
    """A recording is missing, unreadable, empty, truncated or not audio."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ChannelLayoutError(DiarizeError):
    """The recording's channels cannot be processed the way that was asked."""


class PartyMappingError(DiarizeError):
    """Channels or speakers cannot be tied to the call's parties; the message says what to add."""


class ModelLoadError(DiarizeError):
    """Model weights or a pipeline cannot be found or loaded."""


class ConfigError(DiarizeError):
    """A hyper-parameter or pipeline configuration file is malformed."""
