"""Rate limits on the client API, with Mastodon's numbers and headers (config/initializers/rack_attack.rb).

300 requests per 5 minutes per access token (per IP address for calls without one), 30 media
uploads per 30 minutes, 5 sign-ups per 30 minutes per IP address. Windows are fixed and aligned
to the clock, as Rack::Attack's are; responses carry X-RateLimit-Limit, -Remaining and -Reset
(an ISO 8601 time), and a request past a limit gets 429 {"error": "Too many requests"}.

Counts live in this process's memory: with several `fedserver serve` workers each keeps its
own, so a client spread over them may get up to that many times the limit. Requests from the
loopback address are not limited, as on Mastodon: they come from the machine itself, and
behind a reverse proxy the client's address is the one the proxy forwards.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK = ("127.0.0.1", "::1")
_MEDIA = re.compile(r"^/api/v\d+/media/?$")
_MAX_KEYS = 50_000  # beyond this many counters, those of past windows are dropped


@dataclass(frozen=True)
class Rule:
    """A limit: `limit` requests per `period` seconds, for the requests `applies` picks out (method, path)."""

    name: str
    limit: int
    period: int
    by_address: bool  # counted per IP address even when a token is sent
    applies: Callable[[str, str], bool]


API = Rule("api", 300, 5 * 60, by_address=False,  # long-lived streams are not requests to count
           applies=lambda method, path: not path.startswith("/api/v1/streaming"))
MEDIA = Rule("media", 30, 30 * 60, by_address=False,
             applies=lambda method, path: method == "POST" and bool(_MEDIA.match(path)))
SIGN_UP = Rule("sign_up", 5, 30 * 60, by_address=True,
               applies=lambda method, path: method == "POST" and path.rstrip("/") == "/api/v1/accounts")
RULES = (API, MEDIA, SIGN_UP)


@dataclass(frozen=True)
class Verdict:
    """Where one client stands against one rule in the current window."""

    rule: Rule
    count: int
    resets_at: float  # seconds since the epoch

    @property
    def exceeded(self) -> bool:
        return self.count > self.rule.limit

    @property
    def remaining(self) -> int:
        return max(self.rule.limit - self.count, 0)

    def headers(self) -> dict[str, str]:
        reset = datetime.fromtimestamp(self.resets_at, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return {"X-RateLimit-Limit": str(self.rule.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": reset}


class RateLimiter:
    """Counters per rule and client in fixed windows; `clock` gives seconds since the epoch (tests set it)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}  # (rule, client) -> (window, count)
        self._tokens: dict[str, float] = {}  # digests of tokens that worked, and when they last did

    def hit(self, rule: Rule, client: str) -> Verdict:
        """Count one request of a client against a rule."""
        now = self.clock()
        window = int(now // rule.period)
        previous_window, count = self._counts.get((rule.name, client), (window, 0))
        count = count + 1 if previous_window == window else 1
        self._counts[(rule.name, client)] = (window, count)
        if len(self._counts) > _MAX_KEYS:
            self._forget_old(now)
        return Verdict(rule, count, (window + 1) * rule.period)

    def knows(self, token_digest: str) -> bool:
        return token_digest in self._tokens

    def learn(self, token_digest: str, *, works: bool) -> None:
        """Remember whether a token authenticated, so that invented tokens count against the address."""
        if works:
            self._tokens[token_digest] = self.clock()
            if len(self._tokens) > _MAX_KEYS:
                cutoff = self.clock() - max(rule.period for rule in RULES)
                self._tokens = {key: seen for key, seen in self._tokens.items() if seen > cutoff}
        else:
            self._tokens.pop(token_digest, None)

    def _forget_old(self, now: float) -> None:
        periods = {rule.name: rule.period for rule in RULES}
        self._counts = {key: value for key, value in self._counts.items()
                        if value[0] == int(now // periods.get(key[0], 1))}


class RateLimitMiddleware:
    """Count API requests and refuse those past a limit; stream endpoints and loopback are left alone."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app, self.limiter = app, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        address = (scope.get("client") or ("", 0))[0]
        if scope["type"] != "http" or not scope["path"].startswith("/api/") or address in LOOPBACK:
            await self.app(scope, receive, send)
            return
        token = _token_digest(scope)
        # A token only counts as the client once it has worked: invented ones count against the address.
        client = f"token:{token}" if token and self.limiter.knows(token) else f"ip:{_network(address)}"
        verdicts = [self.limiter.hit(rule, f"ip:{_network(address)}" if rule.by_address else client)
                    for rule in RULES if rule.applies(scope["method"], scope["path"])]
        if not verdicts:
            await self.app(scope, receive, send)
            return
        refused = next((verdict for verdict in verdicts if verdict.exceeded), None)
        if refused is not None:
            await _too_many(send, refused)
            return
        shown = min(verdicts, key=lambda verdict: verdict.remaining)
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).update(shown.headers())
            await send(message)

        await self.app(scope, receive, send_with_headers)
        if token:
            self.limiter.learn(token, works=status != 401)


def _token_digest(scope: Scope) -> str | None:
    """A digest of the bearer token (header or access_token query), never the token itself."""
    header = Headers(scope=scope).get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not token:
        token = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("access_token") or [""])[0]
    return hashlib.sha256(token.encode("utf-8")).hexdigest() if token else None


def _network(address: str) -> str:
    """The address a client is counted by; IPv6 clients by their /64, since each holds a whole one."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


async def _too_many(send: Send, verdict: Verdict) -> None:
    body = json.dumps({"error": "Too many requests"}).encode("utf-8")
    headers = {**verdict.headers(), "Content-Type": "application/json", "Content-Length": str(len(body))}
    await send({"type": "http.response.start", "status": 429,
                "headers": [(key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in headers.items()]})
    await send({"type": "http.response.body", "body": body})
