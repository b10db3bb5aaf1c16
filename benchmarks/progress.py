"""Progress for long runs: a rich progress bar on a terminal, a few plain lines otherwise."""

from __future__ import annotations

import sys
from contextlib import contextmanager

__all__ = ["progress_bar"]


class _Plain:
    """Stand-in for rich's Progress when stderr is not a terminal: one line per finished task."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tasks: dict[int, list] = {}

    def add_task(self, description: str, total: float | None = None) -> int:
        task = len(self.tasks)
        self.tasks[task] = [description, total, 0.0, False]
        return task

    def update(
        self,
        task: int,
        *,
        advance: float = 0.0,
        completed: float | None = None,
        description: str | None = None,
    ) -> None:
        entry = self.tasks[task]
        if description is not None:
            entry[0] = description
        entry[2] = completed if completed is not None else entry[2] + advance
        if entry[1] is not None and entry[2] >= entry[1] and not entry[3]:
            entry[3] = True
            if not self.quiet:
                print(f"  done: {entry[0]}", file=sys.stderr, flush=True)


@contextmanager
def progress_bar(quiet: bool = False):
    """Yield an object with rich's ``add_task``/``update``; a live bar only on a TTY."""
    if quiet or not sys.stderr.isatty():
        yield _Plain(quiet)
        return
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
        transient=False,
    ) as bar:
        yield bar
