"""A client-side request limiter shared by every thread and call of one client.

Gong allows "3 calls per second" for the whole company. A token bucket of capacity ``b`` and
rate ``r`` admits ``b + r * T`` requests in a window of ``T`` seconds (6 in one second for
``b = r = 3``), so against a server that counts requests per second it over-sends at the
start of every burst. This limiter keeps the send times of the last ``burst`` requests and
lets a new one go only when the oldest of them is more than ``window_s + margin_s`` old: no
window of one second (as the client sees it) ever holds more than ``burst`` requests, and the
margin absorbs the difference between when a request leaves here and when the server counts
it (scheduling, connection set-up). Bursts still go out at once, unlike fixed spacing.

A 429 pauses the whole limiter (`RateLimiter.pause_for`): the limit is company-wide, so every
thread waits out ``Retry-After``, not only the one that was refused.

Several processes (or clients) do not share this state; pass one `RateLimiter` to several
clients of one process, and rely on the 429 handling across processes.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Blocks callers so that at most ``burst`` requests start in any ``window_s`` seconds.

    Parameters
    ----------
    rate_per_s
        Allowed requests per second (3 for Gong by default); may be below 1.
    burst
        Requests allowed back to back; ``window_s = burst / rate_per_s``. Defaults to
        ``max(1, floor(rate_per_s))``, i.e. a one-second window for rates of 1/s or more.
    margin_s
        Safety margin added to the window, in seconds.
    clock, sleep
        Monotonic time source and sleep function (injected in tests).
    """

    def __init__(
        self,
        rate_per_s: float = 3.0,
        *,
        burst: int | None = None,
        margin_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate_per_s > 0 or math.isinf(rate_per_s):
            raise ValueError(f"rate_per_s must be a positive number, got {rate_per_s!r}")
        if margin_s < 0:
            raise ValueError(f"margin_s must be >= 0, got {margin_s!r}")
        self.rate_per_s = float(rate_per_s)
        self.burst = max(1, math.floor(rate_per_s)) if burst is None else int(burst)
        if self.burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst!r}")
        self.window_s = self.burst / self.rate_per_s
        self.margin_s = float(margin_s)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: deque[float] = deque(maxlen=self.burst)
        self._paused_until = -math.inf

    def __repr__(self) -> str:
        return (
            f"RateLimiter(rate_per_s={self.rate_per_s:g}, burst={self.burst}, "
            f"margin_s={self.margin_s:g})"
        )

    def acquire(self) -> float:
        """Wait until one more request may start, and count it.

        Returns
        -------
        float
            Seconds spent waiting.
        """
        waited_s = 0.0
        while True:
            wait_s = self._try_acquire()
            if wait_s <= 0:
                return waited_s
            self._sleep(wait_s)
            waited_s += wait_s

    def _try_acquire(self) -> float:
        """Take a slot and return 0, or return how long to wait before trying again."""
        with self._lock:
            now = self._clock()
            if now < self._paused_until:
                return self._paused_until - now
            if len(self._sent) == self.burst:
                free_at = self._sent[0] + self.window_s + self.margin_s
                if now < free_at:
                    return free_at - now
            self._sent.append(now)  # maxlen drops the oldest
            return 0.0

    def pause_for(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` from now (after a 429 with ``Retry-After``).

        Parameters
        ----------
        seconds
            How long to hold; a shorter pause never shortens one already in force.
        """
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))
