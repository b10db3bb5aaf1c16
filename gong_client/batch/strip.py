"""A who-spoke-when strip: a call's timeline squeezed into a fixed number of cells.

Each cell holds the party that spoke most in its slice of the call (``0``-``9``, ``a``-``z``:
the party's position among the call's parties), or ``.`` for silence. It is small enough to
keep in the summary for every call, and `summary.html` draws it as a coloured bar.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CELLS", "SYMBOLS", "make_strip"]

CELLS = 120
SYMBOLS = "0123456789abcdefghijklmnopqrstuvwxyz"


def make_strip(
    segments: Sequence[tuple[float, float, str]],
    duration_s: float,
    parties: Sequence[dict],
    cells: int = CELLS,
) -> dict[str, object]:
    """The strip of a timeline.

    Parameters
    ----------
    segments
        ``(start_s, end_s, partyId)`` tuples.
    duration_s
        The call's length.
    parties
        The enriched call's parties, in order (they give each symbol its party).

    Returns
    -------
    dict
        ``{"cells": "..00111.", "parties": [name or partyId, ...]}``.
    """
    order = {str(p.get("partyId")): i for i, p in enumerate(parties) if p.get("partyId")}
    names = [str(p.get("name") or p.get("emailAddress") or p.get("partyId")) for p in parties]
    if duration_s <= 0:
        return {"cells": "", "parties": names}
    width = duration_s / cells
    talk = [[0.0] * len(parties) for _ in range(cells)]
    for start, end, party in segments:
        who = order.get(str(party))
        if who is None or end <= start:
            continue
        first = max(0, int(start / width))
        last = min(cells - 1, int(end / width))
        for cell in range(first, last + 1):
            lo, hi = cell * width, (cell + 1) * width
            talk[cell][who] += max(0.0, min(end, hi) - max(start, lo))
    text = []
    for amounts in talk:
        best = max(range(len(amounts)), key=amounts.__getitem__) if amounts else 0
        spoken = amounts[best] if amounts else 0.0
        text.append(SYMBOLS[best % len(SYMBOLS)] if spoken > width * 0.1 else ".")
    return {"cells": "".join(text), "parties": names}
