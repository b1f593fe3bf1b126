"""The session cookie: a web-session token (fedserver.local.web_sessions, which also signs and checks the value,
so the OAuth consent page can read it) set and cleared on the answers of the web UI."""
from __future__ import annotations

from starlette.responses import Response

from fedserver.local.web_sessions import COOKIE
from fedserver.local.web_sessions import cookie_value as encode
from fedserver.local.web_sessions import token_in as decode

__all__ = ["COOKIE", "MAX_AGE", "clear_cookie", "decode", "encode", "set_cookie"]
MAX_AGE = 60 * 60 * 24 * 30  # a month; the server can end it at any time by revoking the token


def set_cookie(response: Response, secret_key: bytes, token: str, *, secure: bool) -> None:
    response.set_cookie(COOKIE, encode(secret_key, token), max_age=MAX_AGE, httponly=True, samesite="lax",
                        secure=secure, path="/")


def clear_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
