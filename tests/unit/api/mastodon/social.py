"""Who follows, blocks, mutes, likes and bookmarks whom: set up through the services (or rows, for the
local-only kinds), so the timeline, notification and conversation tests read as the situation they test."""
from __future__ import annotations

from typing import Any

import httpx

from fedserver.db import utcnow
from fedserver.local import accounts, blocks, boosts, follows, likes
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Bookmark, DomainBlock, Mute
from fedserver.local.models.statuses import Status
from tests.api_clients import bearer, token_for
from tests.cities import City


async def actor_of(city: City, username: str) -> Actor:
    async with city.site.sessions() as session:
        return (await accounts.find_by_username(session, username)).actor


async def follow(city: City, follower: str, target: str, *, show_reblogs: bool = True) -> None:
    async with city.site.sessions() as session, session.begin():
        one = (await accounts.find_by_username(session, follower)).actor
        other = (await accounts.find_by_username(session, target)).actor
        row = await follows.request(session, city.site.urls, one, other, now=utcnow())
        row.show_reblogs = show_reblogs


async def block(city: City, blocker: str, target: str) -> None:
    async with city.site.sessions() as session, session.begin():
        one = (await accounts.find_by_username(session, blocker)).actor
        other = (await accounts.find_by_username(session, target)).actor
        await blocks.block(session, city.site.urls, one, other, now=utcnow())


async def mute(city: City, muter: str, target: str) -> None:
    async with city.site.sessions() as session, session.begin():
        one = (await accounts.find_by_username(session, muter)).actor
        other = (await accounts.find_by_username(session, target)).actor
        session.add(Mute(actor_id=one.id, target_id=other.id, hide_notifications=True))


async def block_domain(city: City, username: str, domain: str) -> None:
    async with city.site.sessions() as session, session.begin():
        one = (await accounts.find_by_username(session, username)).actor
        session.add(DomainBlock(actor_id=one.id, domain=domain))


async def boost(city: City, username: str, status: Status) -> Status:
    async with city.site.sessions() as session, session.begin():
        one = (await accounts.find_by_username(session, username)).actor
        return await boosts.boost(session, city.site.urls, one, await session.get(Status, status.id), now=utcnow())


async def like(city: City, username: str, status: Status) -> None:
    async with city.site.sessions() as session, session.begin():
        one = (await accounts.find_by_username(session, username)).actor
        await likes.like(session, city.site.urls, one, await session.get(Status, status.id), now=utcnow())


async def bookmark(city: City, username: str, status: Status) -> None:
    async with city.site.sessions() as session, session.begin():
        one = (await accounts.find_by_username(session, username)).actor
        session.add(Bookmark(actor_id=one.id, status_id=status.id))


class Reader:
    """An app signed in as one person: get/post/put/delete with their token."""

    def __init__(self, city: City, token: str) -> None:
        self.city, self.headers = city, bearer(token)

    @classmethod
    async def of(cls, city: City, username: str, scopes: str = "read write follow push") -> Reader:
        return cls(city, await token_for(city, username, scopes))

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.city.client.get(path, params=params, headers=self.headers)

    async def post(self, path: str, **body: Any) -> httpx.Response:
        return await self.city.client.post(path, json=body, headers=self.headers)

    async def put(self, path: str, **body: Any) -> httpx.Response:
        return await self.city.client.put(path, json=body, headers=self.headers)

    async def delete(self, path: str, **params: Any) -> httpx.Response:
        return await self.city.client.delete(path, params=params, headers=self.headers)

    async def ids(self, path: str, **params: Any) -> list[str]:
        response = await self.get(path, **params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()]
