"""Housekeeping: a follower whose inbox answers 410 Gone is forgotten; finished rows are pruned."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from fedserver import housekeeping
from fedserver.db import utcnow
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import ACCEPTED, Follow
from fedserver.outbox.deliveries import Delivery
from tests.federation.cities import federation, local_actor


async def _gone(request: object) -> Response:
    return Response(status_code=410)


async def test_gone_follower_is_dropped_and_rows_pruned(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test") as fed:
        moers = fed["moers.test"]
        fed.router.add("gone.test", Starlette(routes=[Route("/users/zoe/inbox", _gone, methods=["POST"])]))
        await moers.create_account("alice")
        alice = await local_actor(moers, "alice")
        async with moers.site.sessions() as session, session.begin():
            zoe = Actor(ap_id="https://gone.test/users/zoe", kind="Person", username="zoe", username_key="zoe",
                        domain="gone.test", inbox_url="https://gone.test/users/zoe/inbox")
            session.add(zoe)
            await session.flush()
            session.add(Follow(follower_id=zoe.id, target_id=alice.id, state=ACCEPTED))
        started = utcnow()
        await moers.post("alice", "Hallo")
        await fed.drain()
        await housekeeping.tidy(moers.site.sessions, since=started, now=utcnow())
        async with moers.site.sessions() as session:
            assert await session.scalar(select(func.count(Follow.id))) == 0
            assert await session.scalar(select(func.count(Delivery.id))) == 1  # kept a while for the record
        await housekeeping.tidy(moers.site.sessions, since=started, now=utcnow() + timedelta(days=8))
        async with moers.site.sessions() as session:
            assert await session.scalar(select(func.count(Delivery.id))) == 0
