"""Failed log-ins per client address: after a few in a short time, further attempts wait (per process)."""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

MAX_FAILURES = 10
WINDOW = 300.0  # seconds


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str) -> deque[float]:
        now, failures = self._clock(), self._failures.setdefault(client, deque())
        while failures and failures[0] < now - WINDOW:
            failures.popleft()
        if not failures:
            del self._failures[client]  # the table only holds clients who failed recently
            return deque()
        return failures

    def blocked(self, client: str) -> bool:
        return len(self._recent(client)) >= MAX_FAILURES

    def failed(self, client: str) -> None:
        self._failures.setdefault(client, deque()).append(self._clock())


THROTTLE = LoginThrottle()
