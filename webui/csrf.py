"""CSRF protection for every form: double submit, with the form's token an HMAC of the cookie's random value
(the scheme of the OAuth consent page), so a cross-site form can neither read nor forge it."""
from __future__ import annotations

import hashlib
import hmac
import secrets

COOKIE = "fedserver_web_csrf"
FIELD = "csrf_token"


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def token_for(secret_key: bytes, cookie_value: str) -> str:
    """What forms carry for this browser's CSRF cookie."""
    return hmac.new(secret_key, b"webui-csrf:" + cookie_value.encode(), hashlib.sha256).hexdigest()


def is_valid(secret_key: bytes, cookie_value: str | None, submitted: str | None) -> bool:
    """True when the form's token belongs to the browser's cookie (compared in constant time)."""
    if not cookie_value or not submitted:
        return False
    return hmac.compare_digest(token_for(secret_key, cookie_value), submitted)
