"""CORS for browser clients (Elk, Phanpy, Pinafore): any origin may call the API, as on Mastodon.

Mastodon allows every origin on /api/* and the OAuth token and revoke endpoints, without
credentials (config/initializers/cors.rb): tokens travel in the Authorization header, never in
cookies, so a page on another origin can do nothing a stolen token could not. Preflight OPTIONS
requests are answered here; every other response on those paths gets the headers added,
errors and rate-limit refusals included, so the browser lets the client read them.
"""
from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOW_METHODS = "POST, PUT, DELETE, GET, PATCH, OPTIONS"
ALLOW_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "Accept", "Cache-Control")
EXPOSE_HEADERS = "Link, X-RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-Request-Id"
MAX_AGE = "7200"  # seconds a browser may reuse a preflight answer (rack-cors' default)
_EXACT = ("/oauth/token", "/oauth/revoke")


def applies(path: str) -> bool:
    """Whether a path is open to other origins."""
    return path.startswith("/api/") or path in _EXACT


class CorsMiddleware:
    """Answer preflights and add Access-Control-* headers on the API's paths."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not applies(scope["path"]):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await _preflight(scope, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Access-Control-Allow-Origin"] = "*"
                headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def _preflight(scope: Scope, send: Send) -> None:
    """200 with what may be sent: the headers the browser asks for are allowed, whatever they are."""
    asked = Headers(scope=scope).get("access-control-request-headers", "")
    allowed = list(ALLOW_HEADERS)
    known = {name.lower() for name in allowed}
    allowed += [name.strip() for name in asked.split(",") if name.strip() and name.strip().lower() not in known]
    headers = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": ALLOW_METHODS,
               "Access-Control-Allow-Headers": ", ".join(allowed), "Access-Control-Expose-Headers": EXPOSE_HEADERS,
               "Access-Control-Max-Age": MAX_AGE, "Content-Length": "0", "Vary": "Access-Control-Request-Headers"}
    await send({"type": "http.response.start", "status": 200,
                "headers": [(key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in headers.items()]})
    await send({"type": "http.response.body", "body": b""})
