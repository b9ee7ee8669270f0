"""Login throttling: lock a username, and a client address, after repeated failures.

Per user: ``user_failures`` wrong passwords in a row lock that username for ``lockout_s``, doubling
with each further lockout (to ``max_lockout_s``). Per client: ``client_failures`` failures within
``client_window_s`` from one address lock that address for ``client_lockout_s`` whatever username
it tries. While locked, even the right password is refused, so guessing gains nothing. Behind a
reverse proxy every request comes from the proxy's address: put the proxy's own rate limit in front.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class _UserState:
    failures: int = 0
    lockouts: int = 0
    locked_until: float = 0.0


@dataclass
class _ClientState:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(self, *, user_failures: int = 5, lockout_s: float = 60.0, max_lockout_s: float = 900.0,
                 client_failures: int = 20, client_window_s: float = 600.0, client_lockout_s: float = 900.0,
                 clock: Callable[[], float] = time.monotonic, max_tracked: int = 10_000) -> None:
        self.user_failures = user_failures
        self.lockout_s = lockout_s
        self.max_lockout_s = max_lockout_s
        self.client_failures = client_failures
        self.client_window_s = client_window_s
        self.client_lockout_s = client_lockout_s
        self.clock = clock
        self.max_tracked = max_tracked
        self._users: dict[str, _UserState] = {}
        self._clients: dict[str, _ClientState] = {}
        self._lock = threading.Lock()

    def locked(self, username: str, client: str) -> float:
        """Seconds until this username or client may try again (0: not locked)."""
        now = self.clock()
        with self._lock:
            user = self._users.get(username)
            peer = self._clients.get(client)
            return max(0.0, (user.locked_until if user else 0.0) - now, (peer.locked_until if peer else 0.0) - now)

    def failed(self, username: str, client: str) -> None:
        now = self.clock()
        with self._lock:
            self._prune(now)
            user = self._users.setdefault(username, _UserState())
            user.failures += 1
            if user.failures >= self.user_failures:
                user.lockouts += 1
                user.failures = 0
                user.locked_until = now + min(self.max_lockout_s, self.lockout_s * 2 ** (user.lockouts - 1))
                log.warning("login: username %r locked for %.0f s after repeated failures", username,
                            user.locked_until - now)
            peer = self._clients.setdefault(client, _ClientState())
            peer.failures.append(now)
            while peer.failures and peer.failures[0] < now - self.client_window_s:
                peer.failures.popleft()
            if len(peer.failures) >= self.client_failures:
                peer.failures.clear()
                peer.locked_until = now + self.client_lockout_s
                log.warning("login: client %s locked for %.0f s after repeated failures", client,
                            self.client_lockout_s)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._users.pop(username, None)

    def _prune(self, now: float) -> None:
        """Over ``max_tracked`` entries, keep only the locked ones, so random usernames cannot grow memory
        without bound (the per-client lock still stops one address from cycling names)."""
        if len(self._users) + len(self._clients) < self.max_tracked:
            return
        self._users = {k: v for k, v in self._users.items() if v.locked_until > now}
        self._clients = {k: v for k, v in self._clients.items() if v.locked_until > now}
