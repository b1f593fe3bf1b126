"""The inbox refuses bad input with the right status and a reason a person can read, and stores nothing.

Moers (https://moers.test) receives. The senders are tiny Starlette apps that serve actor documents
on the in-process Router (tests/federation/cities.py), so every signature is real, every key is
fetched over (in-process) HTTP and verification is never overridden. The SSRF cases use the real
guarded transport instead (the `moers` fixture) and a loopback socket that counts connections.
"""
from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import delete, func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedserver.activitypub import signatures
from fedserver.activitypub.keys import generate_key_pair
from fedserver.activitypub.signatures_rfc9421 import sign_rfc9421
from fedserver.db import create_engine, session_factory, utcnow
from fedserver.inbox import keycache, queue
from fedserver.inbox.queue import InboxItem
from fedserver.inbox.verify import MAX_BODY_BYTES
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import DomainBlock
from fedserver.local.models.statuses import Status
from tests.cities import City
from tests.federation.cities import Federation, federation

KEYS = Path(__file__).resolve().parents[2] / "fixtures" / "keys"
MOERS = "https://moers.test"
SHARED_INBOX = f"{MOERS}/inbox"
AS2 = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS2}#Public"
ACTIVITY_JSON = "application/activity+json"



@cache
def pem(name: str) -> str:
    return (KEYS / name).read_text()


@cache
def third_key_pair() -> tuple[str, str]:
    """A key neither fixture actor has: the one a sender rotates to."""
    return generate_key_pair()


# ---------------------------------------------------------------------------------------------
# Remote servers: actor documents served over the Router, and the actors that sign with them.
# ---------------------------------------------------------------------------------------------


@dataclass
class Signer:
    """A remote actor whose private key the test holds."""

    ap_id: str
    key_id: str
    private_pem: str

    @property
    def origin(self) -> str:
        parts = urlsplit(self.ap_id)
        return f"{parts.scheme}://{parts.netloc}"

    def sign(self, body: bytes, *, now: datetime | None = None, url: str = SHARED_INBOX) -> dict[str, str]:
        return signatures.sign_post(url, body, self.key_id, self.private_pem, now or utcnow())


@dataclass
class Peer:
    """A remote server that serves the documents it is given (actor documents, mostly)."""

    origin: str
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.app = Starlette(routes=[Route("/{path:path}", self._serve, methods=["GET"])])

    @property
    def host(self) -> str:
        return urlsplit(self.origin).netloc

    async def _serve(self, request: Request) -> Response:
        document = self.documents.get(f"{self.origin}{request.url.path}")
        if document is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(document, media_type=ACTIVITY_JSON)

    def actor(self, name: str, private_pem: str, public_pem: str, key_fragment: str = "main-key") -> Signer:
        """Publish an actor document with this public key; returns the signer holding the private key."""
        ap_id = f"{self.origin}/users/{name}"
        key_id = f"{ap_id}#{key_fragment}"
        self.documents[ap_id] = {
            "@context": [AS2, "https://w3id.org/security/v1"], "id": ap_id, "type": "Person",
            "preferredUsername": name, "inbox": f"{ap_id}/inbox", "outbox": f"{ap_id}/outbox",
            "followers": f"{ap_id}/followers", "following": f"{ap_id}/following",
            "endpoints": {"sharedInbox": f"{self.origin}/inbox"},
            "publicKey": {"id": key_id, "owner": ap_id, "publicKeyPem": public_pem},
        }
        return Signer(ap_id, key_id, private_pem)


def note(author: str, number: int, text: str = "Hallo Moers") -> dict[str, Any]:
    """A public Note as Mastodon sends it, authored on the author's own server."""
    return {"id": f"{author}/statuses/{number}", "type": "Note", "attributedTo": author,
            "content": f"<p>{text}</p>", "published": "2026-05-01T10:00:00Z",
            "to": [PUBLIC], "cc": [f"{author}/followers"]}


def create(actor: str, obj: dict[str, Any], *, kind: str = "Create", activity_id: str | None = None) -> dict[str, Any]:
    return {"@context": AS2, "id": activity_id or f"{obj['id']}/activity", "type": kind, "actor": actor,
            "object": obj, "to": [PUBLIC], "cc": [f"{actor}/followers"]}


def encode(activity: Any) -> bytes:
    return json.dumps(activity).encode("utf-8")


@dataclass
class World:
    """Moers, two remote servers on the same Router, and two actors on the first of them."""

    fed: Federation
    moers: City
    remote: Peer
    other: Peer
    ann: Signer  # https://remote.test/users/ann, signs with alice's fixture key
    bob: Signer  # https://remote.test/users/bob, signs with bob's fixture key
    client: httpx.AsyncClient  # POSTs to Moers; an unhandled error comes back as a 500, as from uvicorn

    def fetches_of(self, url: str) -> int:
        """How often Moers fetched `url` (the key owner documents are fetched without the fragment)."""
        return sum(1 for method, requested in self.fed.router.requests if method == "GET" and requested == url)

    def requests_to(self, host: str) -> int:
        return sum(1 for _, requested in self.fed.router.requests if urlsplit(requested).netloc == host)

    def add_peer(self, origin: str) -> Peer:
        peer = Peer(origin)
        self.fed.router.add(peer.host, peer.app)
        return peer

    def move_clock(self, later: datetime) -> None:
        """Moers' inbox now believes it is `later` (its InboxDeps are read per request)."""
        self.moers.app.state.inbox = dataclasses.replace(self.moers.app.state.inbox, clock=lambda: later)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with federation(tmp_path, "moers.test") as fed:
        remote, other = Peer("https://remote.test"), Peer("https://other.test")
        for peer in (remote, other):
            fed.router.add(peer.host, peer.app)
        ann = remote.actor("ann", pem("alice_private.pem"), pem("alice_public.pem"))
        bob = remote.actor("bob", pem("bob_private.pem"), pem("bob_public.pem"))
        async with inbox_client(fed["moers.test"]) as client:
            yield World(fed, fed["moers.test"], remote, other, ann, bob, client)


@asynccontextmanager
async def inbox_client(city: City) -> AsyncIterator[httpx.AsyncClient]:
    """A client for POSTs to the city that sees a 500 as a response (the app's error handler runs)."""
    transport = httpx.ASGITransport(app=city.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=city.settings.base_url) as client:
        yield client


async def deliver(target: World | httpx.AsyncClient, body: bytes | Any, headers: dict[str, str],
                  path: str = "/inbox") -> httpx.Response:
    client = target.client if isinstance(target, World) else target
    return await client.post(path, content=body, headers=headers)


async def inbox_items(city: City) -> list[InboxItem]:
    async with city.site.sessions() as session:
        return list((await session.scalars(select(InboxItem).order_by(InboxItem.id))).all())


async def status_ids(city: City) -> list[str]:
    async with city.site.sessions() as session:
        return list((await session.scalars(select(Status.ap_id).order_by(Status.id))).all())


async def assert_nothing_stored(city: City) -> None:
    assert await inbox_items(city) == []
    assert await status_ids(city) == []


def reason_of(response: httpx.Response, status_code: int) -> str:
    """The refusal's reason, after checking its status; a reason is a sentence, not a stack trace."""
    assert response.status_code == status_code, (response.status_code, response.text)
    reason = response.json()["error"]
    assert isinstance(reason, str) and 10 < len(reason) < 600 and "Traceback" not in reason
    return reason


# ---------------------------------------------------------------------------------------------
# Signatures: missing, garbled, wrong key, changed body, stale or future Date, forged algorithm.
# ---------------------------------------------------------------------------------------------


async def test_a_correctly_signed_create_is_accepted_stored_and_applied(world: World) -> None:
    """The control for every refusal below: the same kind of request, signed properly, gets 202."""
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    response = await deliver(world, body, world.ann.sign(body))
    assert response.status_code == 202, response.text
    [item] = await inbox_items(world.moers)
    assert item.state == queue.PENDING and item.actor_ap_id == world.ann.ap_id
    await world.fed.drain()
    assert await status_ids(world.moers) == [f"{world.ann.ap_id}/statuses/1"]


async def test_missing_signature_is_401(world: World) -> None:
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    response = await deliver(world, body, {"Content-Type": ACTIVITY_JSON,
                                                 "Digest": signatures.digest(body)})
    assert "not signed" in reason_of(response, 401)
    assert world.requests_to("remote.test") == 0  # nothing to fetch for an unsigned request
    await assert_nothing_stored(world.moers)


@pytest.mark.parametrize("garbled", [
    'keyId="https://remote.test/users/ann#main-key",signature=',       # no value
    'keyId="https://remote.test/users/ann#main-key"',                   # no signature
    'keyId="https://remote.test/users/ann#main-key",signature="%%%not base64%%%"',
    'keyId=https://remote.test/users/ann#main-key,signature="abc="',    # unquoted URL: not a token
    '"just a string"',
    "",
])
async def test_garbled_signature_is_401(world: World, garbled: str) -> None:
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    headers = world.ann.sign(body)
    headers["Signature"] = garbled
    reason = reason_of(await deliver(world, body, headers), 401)
    assert "signature" in reason.lower() or "signed" in reason
    await assert_nothing_stored(world.moers)


async def test_signature_by_another_key_is_401_without_a_second_fetch(world: World) -> None:
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    forged = signatures.sign_post(SHARED_INBOX, body, world.ann.key_id, pem("bob_private.pem"), utcnow())
    assert "does not match" in reason_of(await deliver(world, body, forged), 401)
    # The key was fetched moments ago, so a mismatch is not a reason to fetch it again (that would
    # let anyone make us hammer a peer with one forged request after another).
    assert world.fetches_of(world.ann.ap_id) == 1
    await assert_nothing_stored(world.moers)


@pytest.mark.parametrize("recompute_digest", [False, True], ids=["digest-kept", "digest-recomputed"])
async def test_body_changed_after_signing_is_401(world: World, recompute_digest: bool) -> None:
    signed_body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1, "Hallo Moers")))
    changed_body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1, "Kauft bei mir ein!")))
    headers = world.ann.sign(signed_body)
    if recompute_digest:  # a Digest that matches the new body is not covered by the signature
        headers["Digest"] = signatures.digest(changed_body)
    reason = reason_of(await deliver(world, changed_body, headers), 401)
    assert ("does not match" in reason) if recompute_digest else ("Digest" in reason)
    await assert_nothing_stored(world.moers)


@pytest.mark.parametrize("offset", [timedelta(hours=-2), timedelta(hours=2)], ids=["2h-old", "2h-ahead"])
async def test_date_outside_the_window_is_401(world: World, offset: timedelta) -> None:
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    reason = reason_of(await deliver(world, body, world.ann.sign(body, now=utcnow() + offset)), 401)
    assert "dated" in reason and ("expired" in reason if offset < timedelta(0) else "ahead" in reason)
    await assert_nothing_stored(world.moers)


async def test_date_within_the_window_is_accepted(world: World) -> None:
    """Mastodon's window: 5 minutes of lifetime plus an hour of clock skew either way."""
    for number, offset in enumerate((timedelta(minutes=-60), timedelta(minutes=55)), start=1):
        body = encode(create(world.ann.ap_id, note(world.ann.ap_id, number)))
        response = await deliver(world, body, world.ann.sign(body, now=utcnow() + offset))
        assert response.status_code == 202, response.text


@pytest.mark.parametrize("algorithm", ["hmac-sha256", "hs2019"])
async def test_hmac_keyed_with_the_public_key_is_401(world: World, algorithm: str) -> None:
    """httpsig would take the algorithm from the header and check an HMAC keyed with the public PEM,
    which anyone can compute; we run RSA-SHA256 only (DESIGN.md, Federation rules)."""
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    headers = {"Host": "moers.test", "Date": signatures.format_http_date(utcnow()),
               "Digest": signatures.digest(body), "Content-Type": ACTIVITY_JSON}
    signing_string = "\n".join([
        "(request-target): post /inbox", f"host: {headers['Host']}", f"date: {headers['Date']}",
        f"digest: {headers['Digest']}", f"content-type: {headers['Content-Type']}"])
    mac = hmac.new(pem("alice_public.pem").encode(), signing_string.encode(), hashlib.sha256).digest()
    headers["Signature"] = (f'keyId="{world.ann.key_id}",algorithm="{algorithm}",'
                            f'headers="(request-target) host date digest content-type",'
                            f'signature="{base64.b64encode(mac).decode()}"')
    reason = reason_of(await deliver(world, body, headers), 401)
    assert ("not accepted" in reason) if algorithm == "hmac-sha256" else ("does not match" in reason)
    await assert_nothing_stored(world.moers)


# ---------------------------------------------------------------------------------------------
# The body: size, JSON, shape.
# ---------------------------------------------------------------------------------------------


def oversized_body(actor: str) -> bytes:
    activity = create(actor, note(actor, 1, "x" * MAX_BODY_BYTES))
    body = encode(activity)
    assert len(body) > MAX_BODY_BYTES
    return body


async def test_body_over_1_mib_with_content_length_is_413(world: World) -> None:
    body = oversized_body(world.ann.ap_id)
    response = await deliver(world, body, world.ann.sign(body))
    assert str(MAX_BODY_BYTES) in reason_of(response, 413)
    assert world.requests_to("remote.test") == 0  # refused before any key is fetched
    await assert_nothing_stored(world.moers)


async def test_body_over_1_mib_without_content_length_is_413_and_not_read_to_the_end(world: World) -> None:
    body = oversized_body(world.ann.ap_id)
    headers = world.ann.sign(body)
    chunk_size, sent = 64 * 1024, []
    chunks = [body[i:i + chunk_size] for i in range(0, len(body), chunk_size)]
    chunks += [b" " * chunk_size] * 16  # a sender that keeps going: 2 MiB in all

    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks:
            sent.append(len(chunk))
            yield chunk

    request = world.client.build_request("POST", "/inbox", content=stream(), headers=headers)
    assert "content-length" not in request.headers and request.headers["transfer-encoding"] == "chunked"
    response = await world.client.send(request)
    assert str(MAX_BODY_BYTES) in reason_of(response, 413)
    assert sum(sent) <= MAX_BODY_BYTES + chunk_size < sum(len(chunk) for chunk in chunks)
    await assert_nothing_stored(world.moers)


@pytest.mark.parametrize(("body", "words"), [
    (b"<html><body>Hallo</body></html>", "not JSON"),
    (b'{"id": "https://remote.test/1", "type": ', "not JSON"),  # cut short
    (b"\xff\xfe\x00not utf-8", "not JSON"),
    (b'[{"id": "https://remote.test/users/ann/statuses/1/activity", "type": "Create"}]', "not a JSON object"),
    (b'"Create"', "not a JSON object"),
    (b"null", "not a JSON object"),
], ids=["html", "truncated", "not-utf8", "array", "string", "null"])
async def test_body_that_is_not_a_json_object_is_400(world: World, body: bytes, words: str) -> None:
    response = await deliver(world, body, world.ann.sign(body))
    assert words in reason_of(response, 400)
    await assert_nothing_stored(world.moers)


@pytest.mark.parametrize("missing", ["id", "type", "actor"])
async def test_activity_without_id_type_or_actor_is_400(world: World, missing: str) -> None:
    activity = create(world.ann.ap_id, note(world.ann.ap_id, 1))
    del activity[missing]
    body = encode(activity)
    assert f"no {missing}" in reason_of(await deliver(world, body, world.ann.sign(body)), 400)
    await assert_nothing_stored(world.moers)



@pytest.mark.parametrize(("key", "value"), [
    pytest.param("id", "", id="empty-id"),
    pytest.param("id", {"type": "Link"}, id="id-without-iri"),
    pytest.param("type", "", id="empty-type"),
    pytest.param("type", 5, id="numeric-type"),
    pytest.param("actor", "", id="empty-actor"),
    pytest.param("actor", ["", ""], id="list-of-empty-actors"),
])
async def test_activity_with_an_empty_or_unusable_id_type_or_actor_is_400(world: World, key: str, value: Any) -> None:
    activity = create(world.ann.ap_id, note(world.ann.ap_id, 1))
    activity[key] = value
    body = encode(activity)
    assert f"no {key}" in reason_of(await deliver(world, body, world.ann.sign(body)), 400)
    await assert_nothing_stored(world.moers)


# ---------------------------------------------------------------------------------------------
# Origin: signer, actor, activity id and objects must agree.
# ---------------------------------------------------------------------------------------------


async def test_signed_by_one_actor_on_behalf_of_another_is_401(world: World) -> None:
    body = encode(create(world.bob.ap_id, note(world.bob.ap_id, 1)))  # bob's activity ...
    reason = reason_of(await deliver(world, body, world.ann.sign(body)), 401)  # ... signed by ann
    assert world.ann.ap_id in reason and world.bob.ap_id in reason
    await assert_nothing_stored(world.moers)


@pytest.mark.parametrize(("actor_origin", "activity_origin"), [
    ("http://127.0.0.1:8001", "http://127.0.0.1:8002"),   # two cities on one machine: the port decides
    ("https://remote.test", "http://remote.test"),         # the scheme decides
    ("https://remote.test", "https://other.test"),         # the host decides
    ("https://remote.test", "https://remote.test:8443"),   # an explicit other port
], ids=["port", "scheme", "host", "explicit-port"])
async def test_activity_id_on_another_origin_than_its_actor_is_403(
        world: World, actor_origin: str, activity_origin: str) -> None:
    peer = world.remote if actor_origin == world.remote.origin else world.add_peer(actor_origin)
    carl = peer.actor("carl", pem("alice_private.pem"), pem("alice_public.pem"))
    activity = create(carl.ap_id, note(carl.ap_id, 1), activity_id=f"{activity_origin}/users/carl/statuses/1/activity")
    body = encode(activity)
    response = await deliver(world, body, carl.sign(body))
    assert "not on the actor's own server" in reason_of(response, 403)
    await assert_nothing_stored(world.moers)


async def store_post_of_another_server(world: World) -> tuple[Signer, str]:
    """Dora on other.test posts, legitimately; returns dora and her post's id once Moers has it."""
    dora = world.other.actor("dora", pem("bob_private.pem"), pem("bob_public.pem"))
    body = encode(create(dora.ap_id, note(dora.ap_id, 7, "Dora's own post")))
    assert (await deliver(world, body, dora.sign(body))).status_code == 202
    await world.fed.drain()
    post_id = f"{dora.ap_id}/statuses/7"
    assert await status_ids(world.moers) == [post_id]
    return dora, post_id


async def finished_item(world: World, activity_id: str) -> InboxItem:
    [item] = [item for item in await inbox_items(world.moers) if item.activity_ap_id == activity_id]
    return item


@pytest.mark.parametrize("kind", ["Create", "Update"])
async def test_create_or_update_of_another_servers_object_is_not_applied_and_logged(
        world: World, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    if kind == "Update":
        await store_post_of_another_server(world)
    forged = note("https://other.test/users/dora", 7, "Forged by ann")
    activity = create(world.ann.ap_id, forged, kind=kind,
                      activity_id=f"{world.ann.ap_id}/statuses/99/activity")
    body = encode(activity)
    assert (await deliver(world, body, world.ann.sign(body))).status_code == 202
    await world.fed.drain()
    item = await finished_item(world, activity["id"])
    assert item.state == queue.SKIPPED and "OriginMismatch" in item.note and forged["id"] in item.note
    async with world.moers.site.sessions() as session:
        texts = list((await session.scalars(select(Status.content_html))).all())
    assert not any("Forged" in text for text in texts)
    assert world.fetches_of(forged["id"]) == 0  # the forgery is not even looked up
    assert any(activity["id"] in record.getMessage() and "another server" in record.getMessage()
               for record in caplog.records)


async def test_create_of_a_post_attributed_to_someone_else_is_not_applied(world: World) -> None:
    """Same origin as the actor, but the post claims another author (on this or another server)."""
    for number, author in enumerate((world.bob.ap_id, "https://other.test/users/dora"), start=1):
        forged = note(world.ann.ap_id, number, "Not really by me")
        forged["attributedTo"] = author
        body = encode(create(world.ann.ap_id, forged))
        assert (await deliver(world, body, world.ann.sign(body))).status_code == 202
    await world.fed.drain()
    items = await inbox_items(world.moers)
    assert [item.state for item in items] == [queue.SKIPPED, queue.SKIPPED]
    assert all("not to the actor" in item.note for item in items)
    assert await status_ids(world.moers) == []


async def test_delete_of_another_servers_status_is_not_applied_and_logged(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    _, post_id = await store_post_of_another_server(world)
    for number, obj in enumerate((post_id, {"id": post_id, "type": "Tombstone"}), start=1):
        delete_id = f"{world.ann.ap_id}#deletes/{number}"
        body = encode({"@context": AS2, "id": delete_id, "type": "Delete", "actor": world.ann.ap_id,
                       "object": obj, "to": [PUBLIC]})
        assert (await deliver(world, body, world.ann.sign(body))).status_code == 202
        await world.fed.drain()
        item = await finished_item(world, delete_id)
        assert item.state == queue.SKIPPED and "cannot delete" in item.note and post_id in item.note
        assert any(delete_id in record.getMessage() and "cannot delete" in record.getMessage()
                   for record in caplog.records)
    assert await status_ids(world.moers) == [post_id]


async def test_delete_of_a_status_by_another_actor_of_the_same_server_is_not_applied(world: World) -> None:
    body = encode(create(world.bob.ap_id, note(world.bob.ap_id, 3, "Bob's post")))
    assert (await deliver(world, body, world.bob.sign(body))).status_code == 202
    await world.fed.drain()
    post_id = f"{world.bob.ap_id}/statuses/3"
    delete = {"@context": AS2, "id": f"{world.ann.ap_id}#deletes/1", "type": "Delete",
              "actor": world.ann.ap_id, "object": post_id}
    body = encode(delete)
    assert (await deliver(world, body, world.ann.sign(body))).status_code == 202
    await world.fed.drain()
    item = await finished_item(world, delete["id"])
    assert item.state == queue.SKIPPED and "may not delete" in item.note
    assert await status_ids(world.moers) == [post_id]


# ---------------------------------------------------------------------------------------------
# Where keys may come from: the SSRF guard, blocked servers, our own keys.
# ---------------------------------------------------------------------------------------------


@asynccontextmanager
async def loopback_listener() -> AsyncIterator[tuple[int, list[object]]]:
    """A TCP server on 127.0.0.1 that records every connection it gets (and answers none)."""
    connections: list[object] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer.get_extra_info("peername"))
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], connections
    finally:
        server.close()
        await server.wait_closed()


async def wait_for(condition: Any, seconds: float = 1.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)


async def post_with_key_on_loopback(moers: City, host: str) -> tuple[httpx.Response, list[object], str]:
    """POST to `moers` signed with a keyId on a loopback listener; returns the answer, the listener's
    connections and the keyId. The listener is shown to work, so an empty list means something."""
    assert moers.settings.allow_private_network is False  # the `moers` fixture: the real guarded client
    async with loopback_listener() as (port, connections), inbox_client(moers) as client:
        actor = f"http://{host}:{port}/users/x"
        signer = Signer(actor, f"{actor}#main-key", pem("alice_private.pem"))
        body = encode(create(actor, note(actor, 1)))
        response = await deliver(client, body, signer.sign(body))
        await asyncio.sleep(0.05)  # a connection attempt, had there been one, would have landed by now
        seen = list(connections)
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        await wait_for(lambda: connections)
        assert len(connections) == len(seen) + 1
    return response, seen, signer.key_id


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_key_on_a_private_address_is_never_connected_to(moers: City, host: str) -> None:
    response, connections, _ = await post_with_key_on_loopback(moers, host)
    assert connections == []
    assert response.status_code >= 400
    await assert_nothing_stored(moers)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_key_on_a_private_address_is_refused_with_401_and_a_reason(moers: City, host: str) -> None:
    response, _, key_id = await post_with_key_on_loopback(moers, host)
    reason = reason_of(response, 401)
    assert key_id in reason and "refusing to connect" in reason


async def test_key_of_an_instance_blocked_server_is_403_without_fetching(world: World) -> None:
    async with world.moers.site.sessions() as session, session.begin():
        session.add(DomainBlock(domain="remote.test", severity="suspend", reason="spam"))
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    assert "does not accept" in reason_of(await deliver(world, body, world.ann.sign(body)), 403)
    assert world.requests_to("remote.test") == 0
    await assert_nothing_stored(world.moers)
    # Other servers are still heard.
    dora = world.other.actor("dora", pem("bob_private.pem"), pem("bob_public.pem"))
    body = encode(create(dora.ap_id, note(dora.ap_id, 1)))
    assert (await deliver(world, body, dora.sign(body))).status_code == 202


async def test_blocking_a_server_refuses_the_actors_we_already_know(world: World) -> None:
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    assert (await deliver(world, body, world.ann.sign(body))).status_code == 202
    async with world.moers.site.sessions() as session, session.begin():
        session.add(DomainBlock(domain="remote.test", severity="suspend"))
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 2)))
    assert "does not accept" in reason_of(await deliver(world, body, world.ann.sign(body)), 403)
    assert len(await inbox_items(world.moers)) == 1


async def test_lifting_a_block_is_heard_at_once(world: World) -> None:
    async with world.moers.site.sessions() as session, session.begin():
        session.add(DomainBlock(domain="remote.test", severity="suspend"))
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    reason_of(await deliver(world, body, world.ann.sign(body)), 403)  # the answer is cached now ...
    async with world.moers.site.sessions() as session, session.begin():  # ... and a statement, not a flush, lifts it
        await session.execute(delete(DomainBlock).where(DomainBlock.domain == "remote.test"))
    assert (await deliver(world, body, world.ann.sign(body))).status_code == 202


async def test_a_block_written_by_another_process_applies_within_two_seconds(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    assert (await deliver(world, body, world.ann.sign(body))).status_code == 202
    other_process = create_engine(world.moers.settings.database_url)  # its commits are not heard here
    try:
        async with session_factory(other_process)() as session, session.begin():
            session.add(DomainBlock(domain="remote.test", severity="suspend"))
    finally:
        await other_process.dispose()
    later = time.monotonic() + 2.1
    monkeypatch.setattr(keycache.time, "monotonic", lambda: later)
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 2)))
    assert "does not accept" in reason_of(await deliver(world, body, world.ann.sign(body)), 403)
    assert len(await inbox_items(world.moers)) == 1


async def test_signature_claiming_one_of_our_own_keys_is_401_without_fetching_ourselves(world: World) -> None:
    await world.moers.create_account("alice")
    alice = f"{MOERS}/users/alice"
    body = encode(create(alice, note(alice, 1)))
    forged = signatures.sign_post(SHARED_INBOX, body, f"{alice}#main-key", pem("bob_private.pem"), utcnow())
    reason_of(await deliver(world, body, forged), 401)
    await assert_nothing_stored(world.moers)
    assert world.fetches_of(alice) == 0  # Moers did not GET its own actor document


# ---------------------------------------------------------------------------------------------
# Inboxes, redelivery, unknown types.
# ---------------------------------------------------------------------------------------------


async def test_unknown_local_user_inbox_is_404_and_fetches_nothing(world: World) -> None:
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    response = await deliver(world, body, world.ann.sign(body, url=f"{MOERS}/users/nobody/inbox"),
                             path="/users/nobody/inbox")
    assert "nobody" in reason_of(response, 404)
    assert world.requests_to("remote.test") == 0
    await assert_nothing_stored(world.moers)
    await world.moers.create_account("alice")  # and a user who exists gets it
    response = await deliver(world, body, world.ann.sign(body, url=f"{MOERS}/users/alice/inbox"),
                             path="/users/alice/inbox")
    assert response.status_code == 202, response.text


async def test_signature_for_another_inbox_path_is_401(world: World) -> None:
    """(request-target) is signed: a POST signed for one inbox cannot be replayed to another."""
    await world.moers.create_account("alice")
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    response = await deliver(world, body, world.ann.sign(body), path="/users/alice/inbox")
    assert "does not match" in reason_of(response, 401)
    await assert_nothing_stored(world.moers)


async def test_redelivery_of_the_same_activity_is_202_and_applied_once(world: World) -> None:
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    for _ in range(2):  # a sender that timed out waiting for our 202 sends again
        assert (await deliver(world, body, world.ann.sign(body))).status_code == 202
    assert len(await inbox_items(world.moers)) == 1
    await world.fed.drain()
    assert (await deliver(world, body, world.ann.sign(body))).status_code == 202  # after it was applied
    await world.fed.drain()
    [item] = await inbox_items(world.moers)
    assert item.state == queue.DONE and item.body == ""
    assert await status_ids(world.moers) == [f"{world.ann.ap_id}/statuses/1"]


async def test_unknown_activity_type_is_202_stored_and_skipped_with_a_note(world: World) -> None:
    activity = {"@context": AS2, "id": f"{world.ann.ap_id}#arrivals/1", "type": "Arrive",
                "actor": world.ann.ap_id, "location": {"type": "Place", "name": "Moers Schlosspark"}}
    body = encode(activity)
    assert (await deliver(world, body, world.ann.sign(body))).status_code == 202
    [item] = await inbox_items(world.moers)
    assert item.state == queue.PENDING and item.activity_type == "Arrive"
    await world.fed.drain()
    [item] = await inbox_items(world.moers)
    assert item.state == queue.SKIPPED and "Arrive is not supported" in item.note and item.body == ""


# ---------------------------------------------------------------------------------------------
# RFC 9421, schemes we cannot verify, and key rotation.
# ---------------------------------------------------------------------------------------------


def rfc9421_headers(signer: Signer, body: bytes, now: datetime | None = None) -> dict[str, str]:
    return sign_rfc9421("POST", SHARED_INBOX, {"Content-Type": ACTIVITY_JSON}, body, signer.key_id,
                        signer.private_pem, now or utcnow())


async def test_rfc9421_signed_post_is_accepted_and_applied(world: World) -> None:
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    headers = rfc9421_headers(world.ann, body)
    assert "Signature-Input" in headers and "Digest" not in headers
    assert (await deliver(world, body, headers)).status_code == 202
    await world.fed.drain()
    assert await status_ids(world.moers) == [f"{world.ann.ap_id}/statuses/1"]


async def test_rfc9421_with_a_changed_body_is_401(world: World) -> None:
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    changed = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1, "changed")))
    assert "Content-Digest" in reason_of(await deliver(world, changed, rfc9421_headers(world.ann, body)), 401)
    await assert_nothing_stored(world.moers)


def _unverifiable(case: str, signer: Signer, body: bytes) -> dict[str, str]:
    """Headers of a request signed in a way we cannot (or must not) verify."""
    if case.startswith("rfc9421"):
        headers = rfc9421_headers(signer, body)
        if case == "rfc9421-ed25519":
            headers["Signature-Input"] = headers["Signature-Input"].replace('"rsa-v1_5-sha256"', '"ed25519"')
        elif case == "rfc9421-component-parameters":
            headers["Signature-Input"] = headers["Signature-Input"].replace('"@method"', '"@method";req')
        elif case == "rfc9421-no-signature":
            del headers["Signature"]
        elif case == "rfc9421-garbled-input":
            headers["Signature-Input"] = "sig1=((("
        elif case == "rfc9421-created-far-future":
            headers["Signature-Input"] = headers["Signature-Input"].replace(
                "created=", "created=999999999999999;x=")
        elif case == "rfc9421-no-created":
            input_ = headers["Signature-Input"]
            headers["Signature-Input"] = input_[:input_.index(";created=")] + input_[input_.index(";keyid="):]
        return headers
    headers = signer.sign(body)
    if case == "cavage-ecdsa":
        headers["Signature"] = headers["Signature"].replace('algorithm="rsa-sha256"', 'algorithm="ecdsa-sha256"')
    elif case == "cavage-in-authorization":
        headers["Authorization"] = "Signature " + headers.pop("Signature")
    elif case == "cavage-without-digest":
        headers["Signature"] = headers["Signature"].replace(" digest content-type", " content-type")
    elif case == "cavage-created-not-a-number":
        headers["Signature"] = headers["Signature"].replace('algorithm="rsa-sha256"', 'algorithm="hs2019"').replace(
            'headers="(request-target) host date', 'created="soon",headers="(request-target) host (created)')
    elif case == "signature-in-rfc9421-syntax-without-input":
        headers["Signature"] = "sig1=:" + base64.b64encode(b"x" * 256).decode() + ":"
    return headers


_SCHEME_CASES = ["rfc9421-ed25519", "rfc9421-component-parameters", "rfc9421-no-signature", "rfc9421-garbled-input",
                 "rfc9421-created-far-future", "rfc9421-no-created", "cavage-ecdsa", "cavage-in-authorization",
                 "cavage-without-digest", "cavage-created-not-a-number", "signature-in-rfc9421-syntax-without-input"]


@pytest.mark.parametrize("case", _SCHEME_CASES)
async def test_request_signed_in_a_way_we_cannot_verify_is_401_never_500(world: World, case: str) -> None:
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    reason = reason_of(await deliver(world, body, _unverifiable(case, world.ann, body)), 401)
    assert "sign" in reason.lower()
    await assert_nothing_stored(world.moers)


@pytest.mark.parametrize("key_id", [
    pytest.param("acct:ann@remote.test"),
    pytest.param("file:///etc/passwd#main-key"),
    pytest.param("not a url at all"),
    "https://remote.test/users/nobody#main-key",        # 404 at its server
    "https://remote.test/users/ann#some-other-key",     # the actor exists but does not own this key
])
async def test_key_id_we_cannot_fetch_or_that_is_not_the_actors_is_401_never_500(world: World, key_id: str) -> None:
    body = encode(create(world.ann.ap_id, note(world.ann.ap_id, 1)))
    headers = signatures.sign_post(SHARED_INBOX, body, key_id, world.ann.private_pem, utcnow())
    assert key_id in reason_of(await deliver(world, body, headers), 401)
    await assert_nothing_stored(world.moers)


async def public_key_of(world: World, ap_id: str) -> tuple[str | None, str | None]:
    async with world.moers.site.sessions() as session:
        row = (await session.execute(select(Actor.public_key_id, Actor.public_key_pem)
                                     .where(Actor.ap_id == ap_id))).one()
    return row.public_key_id, row.public_key_pem


async def test_rotated_key_is_refetched_once_and_accepted(world: World) -> None:
    """Mastodon keeps the key id (#main-key) when a key changes; our cached copy is then stale."""
    ann = world.ann
    first = encode(create(ann.ap_id, note(ann.ap_id, 1)))
    assert (await deliver(world, first, ann.sign(first))).status_code == 202
    assert world.fetches_of(ann.ap_id) == 1
    new_private, new_public = third_key_pair()
    rotated = world.remote.actor("ann", new_private, new_public)
    assert rotated.key_id == ann.key_id
    # Within ten minutes of the last fetch a mismatch is refused without asking the sender's server
    # again (verify.py KEY_REFETCH_INTERVAL): a forger cannot make us fetch on every request.
    second = encode(create(ann.ap_id, note(ann.ap_id, 2)))
    assert "does not match" in reason_of(await deliver(world, second, rotated.sign(second)), 401)
    assert world.fetches_of(ann.ap_id) == 1
    # Eleven minutes on (the clock moves; nobody sleeps) the same request is refetched once and accepted.
    later = utcnow() + timedelta(minutes=11)
    world.move_clock(later)
    assert (await deliver(world, second, rotated.sign(second, now=later))).status_code == 202
    assert world.fetches_of(ann.ap_id) == 2
    assert await public_key_of(world, ann.ap_id) == (ann.key_id, new_public)
    third = encode(create(ann.ap_id, note(ann.ap_id, 3)))
    assert (await deliver(world, third, rotated.sign(third, now=later))).status_code == 202
    assert world.fetches_of(ann.ap_id) == 2  # the new key is cached
    # The old key is no longer ann's.
    fourth = encode(create(ann.ap_id, note(ann.ap_id, 4)))
    assert reason_of(await deliver(world, fourth, ann.sign(fourth, now=later)), 401)
    assert len(await inbox_items(world.moers)) == 3


async def test_key_rotated_to_a_new_key_id_is_fetched_at_once_and_accepted(world: World) -> None:
    ann = world.ann
    first = encode(create(ann.ap_id, note(ann.ap_id, 1)))
    assert (await deliver(world, first, ann.sign(first))).status_code == 202
    new_private, new_public = third_key_pair()
    rotated = world.remote.actor("ann", new_private, new_public, key_fragment="key-2026")
    second = encode(create(ann.ap_id, note(ann.ap_id, 2)))
    assert (await deliver(world, second, rotated.sign(second))).status_code == 202
    assert world.fetches_of(ann.ap_id) == 2
    assert await public_key_of(world, ann.ap_id) == (rotated.key_id, new_public)
    async with world.moers.site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Actor).where(Actor.ap_id == ann.ap_id)) == 1


async def test_an_actor_document_cannot_claim_a_key_id_of_another_server(world: World) -> None:
    """Eve (remote.test) publishes dora's key id (other.test) with her own key; she must not become
    the owner of that key id here, or she could sign as "other.test" past a block of remote.test."""
    eve = world.remote.actor("eve", pem("alice_private.pem"), pem("alice_public.pem"))
    foreign_key_id = "https://other.test/users/dora#main-key"
    world.remote.documents[eve.ap_id]["publicKey"]["id"] = foreign_key_id
    body = encode(create(eve.ap_id, note(eve.ap_id, 1)))
    reason_of(await deliver(world, body, eve.sign(body)), 401)  # her own key id is not in her document
    async with world.moers.site.sessions() as session:
        claimed = (await session.scalars(select(Actor.ap_id).where(Actor.public_key_id == foreign_key_id))).all()
    assert claimed == []
    async with world.moers.site.sessions() as session, session.begin():
        session.add(DomainBlock(domain="remote.test", severity="suspend"))
    body = encode(create(eve.ap_id, note(eve.ap_id, 2)))
    headers = signatures.sign_post(SHARED_INBOX, body, foreign_key_id, eve.private_pem, utcnow())
    assert (await deliver(world, body, headers)).status_code in (401, 403)
    await assert_nothing_stored(world.moers)
