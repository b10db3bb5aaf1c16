"""Progress for long runs: a rich progress bar on a terminal, silence otherwise."""

from __future__ import annotations

import sys
from contextlib import contextmanager

__all__ = ["progress_bar"]


class _Silent:
    """Stand-in for rich's Progress when stderr is not a terminal (CI logs): says nothing."""

    def add_task(self, description: str, total: float | None = None) -> int:
        """A task id; nothing is shown."""
        return 0

    def update(self, task: int, **_: object) -> None:
        """Nothing is shown."""


@contextmanager
def progress_bar(quiet: bool = False):
    """Yield an object with rich's ``add_task``/``update``: a live bar on a terminal, a silent
    stand-in when ``quiet`` or when stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield _Silent()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        yield bar
