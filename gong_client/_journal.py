"""The local upload journal: what happened to each call, so that none is created twice.

One SQLite file (``journal.sqlite3`` in a chosen directory, else the platform's state
directory, e.g. ``~/.local/state/gong-diarize``) keeps a row per (base URL, clientUniqueId):

```
(no row) --claim--> posting --callId known--> created --media uploaded--> finished
                       |                                    (downloadMediaUrl: at once)
                       +-- refused for sure (4xx, nothing uncertain) --> row removed
```

- ``posting`` is written *before* ``POST /v2/calls`` leaves. Finding it later means a run
  stopped while the outcome was unknown: the next run posts again with the same
  clientUniqueId (Gong refuses a repeat) and treats a 409 as "possibly ours".
- ``created`` holds the callId: the next run goes straight to the media step.
- ``finished``: the call is complete in Gong; it is never sent again.

Each transition is one SQLite transaction, so Ctrl-C or a kill at any point leaves a row in
one of these states. A row being worked on carries its owner (host, pid, client); another
live process is refused, and a dead owner's row is taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gong_client.errors import JournalError

__all__ = ["Entry", "Journal", "default_state_dir", "make_owner"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    base_url TEXT NOT NULL,
    client_unique_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('posting', 'created', 'finished')),
    call_id TEXT,
    url TEXT,
    media_bytes INTEGER,
    owner TEXT,
    request_ids TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (base_url, client_unique_id)
)
"""
_COLUMNS = (
    "base_url, client_unique_id, state, call_id, url, media_bytes, owner, request_ids, "
    "created_at, updated_at"
)


def default_state_dir() -> Path:
    """Return the platform's per-user state directory for gong-diarize."""
    import platformdirs

    return Path(platformdirs.user_state_dir("gong-diarize", appauthor=False))


@dataclass(frozen=True)
class Entry:
    """One journal row."""

    base_url: str
    client_unique_id: str
    state: str
    call_id: str | None
    url: str | None
    media_bytes: int | None
    owner: str | None
    request_ids: tuple[str, ...]
    created_at: float
    updated_at: float


class Journal:
    """The SQLite upload journal; safe to share between threads and processes.

    Parameters
    ----------
    state_dir
        Directory for ``journal.sqlite3`` (created, mode 0700); the platform's state
        directory when ``None``.
    clock
        Wall-clock time source for the timestamps.
    """

    FILENAME = "journal.sqlite3"

    def __init__(
        self, state_dir: str | os.PathLike | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        directory = Path(state_dir) if state_dir is not None else default_state_dir()
        self.path = directory / self.FILENAME
        self._clock = clock
        with self._errors("cannot create the state directory"):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(self.path, f"{what} ({type(exc).__name__}: {exc})") from exc

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One connection per operation, in autocommit mode; callers open transactions."""
        with self._errors("cannot use the journal"):
            db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            try:
                db.execute("PRAGMA busy_timeout=30000")
                yield db
            finally:
                db.close()

    def get(self, base_url: str, client_unique_id: str) -> Entry | None:
        """Return the row of one call, or ``None``."""
        with self._connect() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM uploads WHERE base_url=? AND client_unique_id=?",
                (base_url, client_unique_id),
            ).fetchone()
        return _entry(row) if row else None

    def entries(self) -> list[Entry]:
        """Return every row, oldest first."""
        with self._connect() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM uploads ORDER BY created_at").fetchall()
        return [_entry(r) for r in rows]

    def claim(
        self, base_url: str, client_unique_id: str, owner: str, *, media_bytes: int | None
    ) -> tuple[Entry, bool]:
        """Take a call for this owner, creating its ``posting`` row when there is none.

        Returns
        -------
        (Entry, bool)
            The row as it now stands, and whether it was created by this claim.

        Raises
        ------
        JournalError
            Another live process (or client) is uploading the same call right now.
        """
        now = self._clock()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    f"SELECT {_COLUMNS} FROM uploads WHERE base_url=? AND client_unique_id=?",
                    (base_url, client_unique_id),
                ).fetchone()
                if row is None:
                    db.execute(
                        "INSERT INTO uploads (base_url, client_unique_id, state, media_bytes, "
                        "owner, created_at, updated_at) VALUES (?, ?, 'posting', ?, ?, ?, ?)",
                        (base_url, client_unique_id, media_bytes, owner, now, now),
                    )
                else:
                    holder = _entry(row).owner
                    if holder and holder != owner and _owner_alive(holder):
                        raise JournalError(
                            self.path,
                            f"clientUniqueId {client_unique_id!r} is being uploaded by another "
                            f"process ({holder}); wait for it to finish",
                        )
                    db.execute(
                        "UPDATE uploads SET owner=?, updated_at=? "
                        "WHERE base_url=? AND client_unique_id=?",
                        (owner, now, base_url, client_unique_id),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        entry = self.get(base_url, client_unique_id)
        assert entry is not None
        return entry, row is None

    def mark_created(
        self, base_url: str, client_unique_id: str, call_id: str, request_ids: list[str]
    ) -> None:
        """Record the callId that ``POST /v2/calls`` returned (or that was found again)."""
        self._update(
            base_url,
            client_unique_id,
            "state='created', call_id=?, request_ids=?",
            (call_id, json.dumps(request_ids)),
        )

    def mark_finished(self, base_url: str, client_unique_id: str, url: str | None) -> None:
        """Record that the call is complete in Gong (media uploaded, or pulled by URL)."""
        self._update(base_url, client_unique_id, "state='finished', url=?", (url,))

    def release(self, base_url: str, client_unique_id: str, owner: str) -> None:
        """Give up ownership of a row (at the end of an upload, whatever its outcome)."""
        with self._connect() as db:
            db.execute(
                "UPDATE uploads SET owner=NULL WHERE base_url=? AND client_unique_id=? AND owner=?",
                (base_url, client_unique_id, owner),
            )

    def forget(self, base_url: str, client_unique_id: str) -> None:
        """Remove a ``posting`` row whose POST was refused for sure (nothing was created)."""
        with self._connect() as db:
            db.execute(
                "DELETE FROM uploads WHERE base_url=? AND client_unique_id=? AND state='posting'",
                (base_url, client_unique_id),
            )

    def _update(self, base_url: str, cuid: str, assignments: str, values: tuple) -> None:
        with self._connect() as db:
            cursor = db.execute(
                f"UPDATE uploads SET {assignments}, updated_at=? "
                "WHERE base_url=? AND client_unique_id=?",
                (*values, self._clock(), base_url, cuid),
            )
            changed = cursor.rowcount
        if changed != 1:
            raise JournalError(self.path, f"no journal row for clientUniqueId {cuid!r}")


def make_owner(tag: str) -> str:
    """An owner string for this process: ``host/pid/tag``."""
    return f"{socket.gethostname()}/{os.getpid()}/{tag}"


def _owner_alive(owner: str) -> bool:
    """Whether the process named by an owner string still runs (on this host)."""
    host, _, rest = owner.partition("/")
    pid_text = rest.partition("/")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine sharing the directory: assume it is alive
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _entry(row: tuple) -> Entry:
    values = list(row)
    values[7] = tuple(json.loads(values[7] or "[]"))
    return Entry(*values)
