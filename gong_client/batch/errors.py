"""The batch's own error: a problem with the batch as a whole (not with one call)."""

from __future__ import annotations

__all__ = ["BatchError"]


class BatchError(Exception):
    """The batch cannot run: an unreadable manifest, an unusable --out, no workers.

    Its message is one line meant for a user. A problem with one call is never raised: it is
    that call's ``failed`` entry in the summary.
    """
