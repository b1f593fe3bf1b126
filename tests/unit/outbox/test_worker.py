"""The delivery worker against a real receiving inbox: signed POSTs, retries, gone, give-up, peer down."""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedserver.activitypub.signatures import SignatureError, verify_request
from fedserver.activitypub.ssrf import guarded_transport
from fedserver.db import create_engine, migrate, session_factory, utcnow
from fedserver.outbox import deliveries, worker
from fedserver.outbox.deliveries import Delivery
from fedserver.outbox.publish import publish

KEYS = Path(__file__).parents[2] / "fixtures" / "keys"
ALICE = "https://moers.test/users/alice"
ALICE_KEY_ID = f"{ALICE}#main-key"
INBOX = "https://solingen.test/inbox"
USER_AGENT = "fedserver/0.1 (+https://moers.test/)"
Sessions = async_sessionmaker[AsyncSession]


@dataclass
class Post:
    """One POST as the receiver saw it."""

    path: str
    activity_id: str
    status: int
    user_agent: str


@dataclass
class Inbox:
    """Solingen's inbox: checks alice's signature, answers from a script (then 202), records each POST."""

    now: datetime
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    expected: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        headers: dict[str, str] = {}
        try:
            verify_request("POST", request.url.path, request.headers, body, (KEYS / "alice_public.pem").read_text(),
                           self.now, expected_host="solingen.test")
        except SignatureError:
            status = 401
        else:
            status, headers = self.answers.pop(0) if self.answers else (202, {})
        activity_id = httpx.Response(200, content=body).json()["id"]
        self.posts.append(Post(request.url.path, activity_id, status, request.headers.get("user-agent", "")))
        if len(self.accepted) >= self.expected > 0:
            self.arrived.set()
        return Response(status_code=status, headers=headers)

    @property
    def accepted(self) -> list[Post]:
        return [post for post in self.posts if 200 <= post.status < 300]


class Router(httpx.AsyncBaseTransport):
    """Routes requests into the receiver's ASGI app; `is_down` makes them fail like a dead peer."""

    def __init__(self, app: Starlette) -> None:
        self._app = httpx.ASGITransport(app=app)
        self.is_down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.is_down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self._app.handle_async_request(request)


@dataclass
class World:
    sessions: Sessions
    inbox: Inbox
    router: Router
    deps: worker.DeliveryDeps

    async def drain(self, now: datetime) -> int:
        self.inbox.now = now  # the receiver's clock moves with ours: no sleeping
        return await worker.drain(self.deps, now)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/t.db"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def now() -> datetime:
    return utcnow() + timedelta(minutes=1)  # later than publish() stamps new rows, so they are due


async def alice_key(sender_ap_id: str) -> tuple[str, str]:
    assert sender_ap_id == ALICE
    return ALICE_KEY_ID, (KEYS / "alice_private.pem").read_text()


@pytest.fixture
async def world(database_url: str, now: datetime) -> AsyncIterator[World]:
    engine = create_engine(database_url)
    await migrate(engine)
    inbox = Inbox(now)
    router = Router(Starlette(routes=[Route("/inbox", inbox.receive, methods=["POST"]),
                                      Route("/users/{name}/inbox", inbox.receive, methods=["POST"])]))
    async with httpx.AsyncClient(transport=router) as http:
        deps = worker.DeliveryDeps(session_factory(engine), http, alice_key, USER_AGENT)
        yield World(deps.sessions, inbox, router, deps)
    await engine.dispose()


async def queue(world: World, *inbox_urls: str, number: int = 1, content: str = "Hallo Solingen") -> str:
    activity_id = f"{ALICE}/statuses/{number}/activity"
    activity = {"id": activity_id, "type": "Create", "actor": ALICE,
                "object": {"id": f"{ALICE}/statuses/{number}", "type": "Note", "content": content}}
    async with world.sessions() as session, session.begin():
        await publish(session, activity, inbox_urls=inbox_urls or (INBOX,))
    return activity_id


async def the_row(world: World) -> Delivery:
    async with world.sessions() as session:
        rows = (await session.scalars(select(Delivery))).all()
    assert len(rows) == 1
    return rows[0]


async def test_delivery_arrives_signed_with_user_agent(world: World, now: datetime) -> None:
    activity_id = await queue(world)
    assert await world.drain(now) == 1
    assert world.inbox.posts == [Post("/inbox", activity_id, 202, USER_AGENT)]
    row = await the_row(world)
    assert (row.state, row.attempts, row.lease_until) == ("sent", 1, None)
    assert await world.drain(now) == 0


async def test_server_error_is_retried_until_accepted(world: World, now: datetime) -> None:
    activity_id = await queue(world)
    world.inbox.answers = [(500, {})]
    assert await world.drain(now) == 1
    row = await the_row(world)
    assert (row.state, row.last_error) == ("pending", "500 from inbox")
    assert await world.drain(now + timedelta(seconds=29)) == 0  # not due yet
    assert await world.drain(now + timedelta(seconds=40)) == 1
    assert [(post.activity_id, post.status) for post in world.inbox.posts] == [(activity_id, 500), (activity_id, 202)]
    row = await the_row(world)
    assert (row.state, row.attempts) == ("sent", 2)


async def test_gone_inbox_is_reported_and_never_tried_again(world: World, now: datetime) -> None:
    await queue(world, "https://solingen.test/users/bob/inbox")
    world.inbox.answers = [(410, {})]
    assert await world.drain(now) == 1
    assert (await the_row(world)).state == "gone"
    async with world.sessions() as session:
        assert await deliveries.gone_inboxes(session, since=now) == ["https://solingen.test/users/bob/inbox"]
    assert await world.drain(now + timedelta(days=3)) == 0
    assert len(world.inbox.posts) == 1


async def test_unauthorized_answer_gives_up_with_the_reason(world: World, now: datetime) -> None:
    await queue(world)
    world.inbox.answers = [(401, {})]
    assert await world.drain(now) == 1
    row = await the_row(world)
    assert (row.state, row.last_error) == ("failed", "401 from inbox")
    assert await world.drain(now + timedelta(days=3)) == 0


async def test_too_many_requests_waits_as_long_as_retry_after_asks(world: World, now: datetime) -> None:
    await queue(world)
    world.inbox.answers = [(429, {"Retry-After": "3600"})]
    assert await world.drain(now) == 1
    assert await world.drain(now + timedelta(minutes=59)) == 0
    assert await world.drain(now + timedelta(minutes=61)) == 1
    assert [post.status for post in world.inbox.posts] == [429, 202]


async def test_peer_down_then_back_gets_the_activity_exactly_once(world: World, now: datetime) -> None:
    activity_id = await queue(world)
    world.router.is_down = True
    assert await world.drain(now) == 1
    row = await the_row(world)
    assert (row.state, row.last_error, row.attempts) == ("pending", "ConnectError", 1)
    world.router.is_down = False
    assert await world.drain(now + timedelta(minutes=1)) == 1
    assert await world.drain(now + timedelta(days=3)) == 0
    assert [post.activity_id for post in world.inbox.accepted] == [activity_id]


async def test_row_of_a_crashed_worker_is_sent_after_its_lease(world: World, now: datetime) -> None:
    activity_id = await queue(world)
    async with world.sessions() as session, session.begin():  # claimed, then the process died
        assert len(await deliveries.claim_due(session, now=now, lease=worker.LEASE)) == 1
    assert await world.drain(now + timedelta(minutes=1)) == 0
    assert await world.drain(now + worker.LEASE + timedelta(seconds=1)) == 1
    assert [post.activity_id for post in world.inbox.accepted] == [activity_id]


async def test_concurrent_workers_send_each_delivery_once(world: World, now: datetime) -> None:
    inboxes = [f"https://solingen.test/users/user{n}/inbox" for n in range(12)]
    await queue(world, *inboxes)
    made = await asyncio.gather(*(world.drain(now) for _ in range(3)))
    assert sum(made) == 12 and len(world.inbox.posts) == 12
    assert sorted(post.path for post in world.inbox.accepted) == sorted(url[len("https://solingen.test"):] for url in inboxes)


async def test_unexpected_error_is_written_on_the_row(world: World, now: datetime,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    async def no_key(sender_ap_id: str) -> tuple[str, str]:
        raise LookupError(f"no key for {sender_ap_id}")

    await queue(world)
    broken = dataclasses.replace(world.deps, signing_key=no_key)
    with caplog.at_level(logging.ERROR, logger="fedserver.outbox.worker"):
        assert await worker.drain(broken, now) == 1
    row = await the_row(world)
    assert (row.state, row.last_error) == ("pending", f"LookupError: no key for {ALICE}")
    assert "failed unexpectedly" in caplog.text
    assert await world.drain(now + timedelta(minutes=1)) == 1  # the key is back: it goes out
    assert len(world.inbox.accepted) == 1


async def test_private_address_is_refused_and_given_up(world: World, now: datetime) -> None:
    await queue(world, "http://127.0.0.1:9/inbox")
    async with httpx.AsyncClient(transport=guarded_transport(False)) as http:
        assert await worker.drain(dataclasses.replace(world.deps, http=http), now) == 1
    row = await the_row(world)
    assert row.state == "failed" and "127.0.0.1" in row.last_error


async def test_logs_name_activity_and_inbox_but_never_the_body(world: World, now: datetime,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    activity_id = await queue(world, content="Geheimnis nur für Follower")
    world.inbox.answers = [(503, {})]
    with caplog.at_level(logging.DEBUG):
        await world.drain(now)
        await world.drain(now + timedelta(minutes=1))
    assert activity_id in caplog.text and INBOX in caplog.text and "503 from inbox" in caplog.text
    assert "Geheimnis" not in caplog.text


async def test_run_forever_sends_everything_once_and_stops_when_asked(world: World, now: datetime) -> None:
    for number in range(1, 11):
        await queue(world, number=number)
    world.inbox.expected = 10
    stop = asyncio.Event()
    # idle_sleep is long on purpose: setting `stop` must wake idle senders at once.
    task = asyncio.create_task(worker.run_forever(world.deps, lambda: now, stop, idle_sleep=60))
    await asyncio.wait_for(world.inbox.arrived.wait(), timeout=20)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert sorted(post.activity_id for post in world.inbox.accepted) == sorted(
        f"{ALICE}/statuses/{number}/activity" for number in range(1, 11))
    async with world.sessions() as session:
        states = set((await session.scalars(select(Delivery.state))).all())
    assert states == {"sent"}
