"""Channels: who is listening, and which stream names a requested channel stands for.

The rules are those of Mastodon's streaming server (streaming/index.js): every connection needs
a user's access token; public channels need no scope, the others `read` or `read:statuses`
(`read:notifications` for user:notification), and a list can only be streamed by its owner.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from fedserver.db import utcnow
from fedserver.local import oauth, streams
from fedserver.local.errors import NotAllowed, NotFound
from fedserver.local.models.accounts import Account
from fedserver.local.models.actors import Actor
from fedserver.local.models.clients import List
from fedserver.local.models.oauth import AccessToken
from fedserver.local.scopes import grants

PUBLIC_CHANNELS = frozenset({"public", "public:media", "public:local", "public:local:media", "public:remote",
                             "public:remote:media", "hashtag", "hashtag:local"})
_FALSE = ("", "0", "f", "false", "off", "no")
_CHUNK = 500  # token ids per query, far below any database's limit on bound parameters


class StreamError(Exception):
    """A refused connection or subscription: Mastodon's status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Viewer:
    """The signed-in account behind a streaming connection."""

    account: Account
    scopes: tuple[str, ...]
    token_id: int | None = None  # the hub checks that it still works while the stream is open

    @property
    def actor(self) -> Actor:
        return self.account.actor

    def may(self, scope: str) -> bool:
        return grants(self.scopes, scope)


@dataclass(frozen=True)
class Channel:
    """A resolved subscription: its name as the client sees it, and the stream names it covers."""

    name: tuple[str, ...]
    streams: frozenset[str]


def token_of(connection: HTTPConnection) -> str | None:
    """The access token: Authorization header, `access_token` in the query, or (masto.js, CLIENTS.md)
    the WebSocket subprotocol."""
    header = connection.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    if connection.query_params.get("access_token"):
        return connection.query_params["access_token"]
    return offered_protocol(connection)


def offered_protocol(connection: HTTPConnection) -> str | None:
    """The first subprotocol a WebSocket client offered; the accept must echo it or browsers hang up."""
    offered = [item.strip() for item in connection.headers.get("sec-websocket-protocol", "").split(",")]
    return next((item for item in offered if item), None)


async def authenticate(sessions: async_sessionmaker[AsyncSession], token: str | None) -> Viewer:
    """The account behind a token; app-only tokens cannot stream (they have no timeline)."""
    if not token:
        raise StreamError(401, "Missing access token")
    async with sessions() as session, session.begin():
        try:
            row, account = await oauth.authenticate(session, token, now=utcnow())
        except (NotFound, NotAllowed):
            raise StreamError(401, "Invalid access token") from None
    if account is None:
        raise StreamError(401, "Invalid access token")
    return Viewer(account=account, scopes=tuple(row.scopes.split()), token_id=row.id)


async def working_tokens(session: AsyncSession, token_ids: Collection[int]) -> set[int]:
    """Which of these tokens still exist and belong to an account that may log in (oauth.authenticate's rule)."""
    ids, working = list(token_ids), set[int]()
    for start in range(0, len(ids), _CHUNK):
        working.update((await session.scalars(
            select(AccessToken.id).join(Account, Account.id == AccessToken.account_id).where(
                AccessToken.id.in_(ids[start:start + _CHUNK]), Account.is_suspended.is_(False),
                Account.is_approved.is_(True)))).all())
    return working


async def resolve(session: AsyncSession, viewer: Viewer, channel: str, params: Mapping[str, str]) -> Channel:
    """The streams of a channel request (`stream` plus `tag`, `list`, `only_media`); raises StreamError."""
    _check_scopes(viewer, channel)
    me = viewer.actor.id
    if channel in ("public", "public:local", "public:remote") and _truthy(params.get("only_media")):
        channel += ":media"
    if channel in PUBLIC_CHANNELS - {"hashtag", "hashtag:local"}:
        return Channel((channel,), frozenset({channel}))
    if channel == "user":
        names = {streams.user(me)}
        if viewer.may("read:notifications"):
            names.add(streams.notifications_of(me))
        return Channel(("user",), frozenset(names))
    if channel == "user:notification":
        return Channel((channel,), frozenset({streams.notifications_of(me)}))
    if channel == "direct":
        return Channel((channel,), frozenset({streams.direct(me)}))
    if channel in ("hashtag", "hashtag:local"):
        tag = (params.get("tag") or "").strip().lstrip("#")
        if not tag:
            raise StreamError(400, "Missing tag name parameter")
        return Channel((channel, tag), frozenset({streams.hashtag(tag, local=channel == "hashtag:local")}))
    if channel == "list":
        return await _list(session, viewer, params.get("list") or "")
    raise StreamError(400, "Unknown stream type")


def _check_scopes(viewer: Viewer, channel: str) -> None:
    if channel in PUBLIC_CHANNELS:
        return
    needed = "read:notifications" if channel == "user:notification" else "read:statuses"
    if not viewer.may(needed):
        raise StreamError(401, "Access token does not have the required scopes")


async def _list(session: AsyncSession, viewer: Viewer, list_id: str) -> Channel:
    if not list_id:
        raise StreamError(400, "Missing list name parameter")
    owned = await session.scalar(select(List.id).where(
        List.id == (int(list_id) if list_id.isdigit() and len(list_id) < 20 else -1),
        List.account_id == viewer.account.id))
    if owned is None:
        raise StreamError(401, "Not authorized to stream this list")
    return Channel(("list", list_id), frozenset({streams.of_list(owned)}))


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in _FALSE
