"""The inbox ceiling: a bare Starlette app that verifies a draft-cavage signature and stores one row.

What every inbox POST must cost at least (bench/inbox.py measures fedserver against it): read the
body, parse the JSON, check the Digest and the Date, verify the RSA-SHA256 signature with
`cryptography` (public keys parsed once and cached), insert one row into SQLite through aiosqlite,
commit, answer 202. No ORM, no logging, no actor lookup in a database.

Configured by environment variables (bench/inbox.py sets them):
  INBOX_REF_DB    SQLite file (created)            INBOX_REF_HOST  the Host the requests are signed for
  INBOX_REF_KEYS  JSON file {keyId: public PEM}    run: uvicorn --app-dir bench inbox_reference_app:app
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import aiosqlite
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

WINDOW = timedelta(hours=1)   # the same Date window as fedserver (DESIGN.md "Federation rules")
SCHEMA = """CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY, activity_id TEXT NOT NULL UNIQUE, actor TEXT NOT NULL, type TEXT NOT NULL,
    body TEXT NOT NULL, received_at TEXT NOT NULL)"""
_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


class _State:
    db: aiosqlite.Connection
    lock: asyncio.Lock
    keys: dict[str, rsa.RSAPublicKey]
    host: str


state = _State()


def _load_keys(path: str) -> dict[str, rsa.RSAPublicKey]:
    """Parse each public key once: PEM parsing is the expensive part of a verify (DESIGN.md)."""
    keys: dict[str, rsa.RSAPublicKey] = {}
    for key_id, pem in json.loads(open(path, encoding="utf-8").read()).items():
        key = serialization.load_pem_public_key(pem.encode("ascii"))
        assert isinstance(key, rsa.RSAPublicKey)
        keys[key_id] = key
    return keys


def _parse_signature(value: str) -> dict[str, str]:
    """keyId="...",algorithm="...",headers="...",signature="..." (no escapes: we wrote them)."""
    fields: dict[str, str] = {}
    for part in value.split('",'):
        name, _, quoted = part.partition("=")
        fields[name.strip()] = quoted.strip().strip('"')
    return fields


def _refuse(status: int) -> Response:
    return Response(status_code=status)


async def inbox(request: Request) -> Response:
    body = await request.body()
    headers = request.headers
    try:
        activity = json.loads(body)
        activity_id, actor, kind = str(activity["id"]), str(activity["actor"]), str(activity["type"])
        signature = _parse_signature(headers["signature"])
        key = state.keys[signature["keyId"]]
        names = signature["headers"].split()
        raw = base64.b64decode(signature["signature"])
        date = parsedate_to_datetime(headers["date"])
    except (ValueError, KeyError, TypeError):
        return _refuse(401)
    if not {"(request-target)", "host", "date", "digest"} <= set(names) or headers.get("host") != state.host:
        return _refuse(401)
    if abs(datetime.now(timezone.utc) - date) > WINDOW:
        return _refuse(401)
    expected = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    if not hmac.compare_digest(headers.get("digest", ""), expected):
        return _refuse(401)
    lines = [f"(request-target): post {request.url.path}" if name == "(request-target)"
             else f"{name}: {headers.get(name, '').strip()}" for name in names]
    try:
        key.verify(raw, "\n".join(lines).encode("latin-1"), _PKCS1V15, _SHA256)
    except InvalidSignature:
        return _refuse(401)
    if signature["keyId"].split("#", 1)[0] != actor:
        return _refuse(401)
    async with state.lock:   # one transaction per request, committed before the 202
        await state.db.execute(
            "INSERT INTO inbox (activity_id, actor, type, body, received_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (activity_id) DO NOTHING",
            (activity_id, actor, kind, body.decode("utf-8"), datetime.now(timezone.utc).isoformat()))
        await state.db.commit()
    return Response(status_code=202)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    state.keys = _load_keys(os.environ["INBOX_REF_KEYS"])
    state.host = os.environ["INBOX_REF_HOST"]
    state.lock = asyncio.Lock()
    async with aiosqlite.connect(os.environ["INBOX_REF_DB"]) as db:
        # The same durability settings as fedserver's SQLite (fedserver/db.py _sqlite_pragmas).
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "secure_delete=ON", "busy_timeout=30000"):
            await db.execute(f"PRAGMA {pragma}")
        await db.execute(SCHEMA)
        await db.commit()
        state.db = db
        yield


app = Starlette(routes=[Route("/inbox", inbox, methods=["POST"])], lifespan=lifespan)
