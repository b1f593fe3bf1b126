"""fetch: signed GETs, redirects, size/type/time limits, origin checks and WebFinger, against real apps.

Peers are a starlette app reached through httpx.ASGITransport (routed by Host, as cities.py
does) that verifies every signature it receives; streaming and time limits need real sockets,
so those tests run a tiny server on 127.0.0.1.
"""
from __future__ import annotations

import asyncio
import gzip
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from fedserver.activitypub import signatures, webfinger
from fedserver.activitypub.errors import MalformedObject, NotAllowed, OriginMismatch, PeerUnavailable
from fedserver.activitypub.fetch import Fetcher, Gone, UnexpectedStatus
from fedserver.activitypub.ssrf import guarded_transport

KEYS = Path(__file__).resolve().parents[2] / "fixtures" / "keys"
PRIVATE_PEM, PUBLIC_PEM = (KEYS / "alice_private.pem").read_text(), (KEYS / "alice_public.pem").read_text()
KEY_ID = "http://krefeld.test/actor#main-key"
AS_JSON = "application/activity+json"
MIB = 1_048_576


@dataclass
class Seen:
    """One request as the peer received it, after its signature was verified."""

    host: str
    scheme: str
    target: str
    key_id: str
    headers: dict[str, str]


@dataclass
class Peer:
    """Every city the test talks to, in one app; `now` is the clock its signature check uses."""

    seen: list[Seen] = field(default_factory=list)
    now: datetime | None = None


def _doc(request: Request, path: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"id": f"{request.url.scheme}://{request.headers['host']}{path}", **extra},
                        media_type=AS_JSON)


def _padded(size: int) -> bytes:
    """A JSON object of exactly `size` bytes."""
    head, tail = b'{"id":"http://moers.test/big","pad":"', b'"}'
    return head + b"a" * (size - len(head) - len(tail)) + tail


async def _endpoint(request: Request) -> Response:
    host, path = request.headers["host"], request.url.path
    if path == "/users/alice" or (host == "solingen.test" and path == "/users/carla"):
        return _doc(request, path, type="Person")
    if path.startswith("/hop/"):
        left = int(path.rsplit("/", 1)[1])
        return RedirectResponse("/users/alice" if left == 0 else f"/hop/{left - 1}", status_code=302)
    fixed: dict[str, Callable[[], Response]] = {
        "/relative": lambda: RedirectResponse("users/alice", status_code=301),
        "/away": lambda: RedirectResponse("http://solingen.test/users/carla", status_code=307),
        "/to-ftp": lambda: RedirectResponse("ftp://moers.test/file", status_code=302),
        "/downgrade": lambda: RedirectResponse("http://moers.test/users/alice", status_code=308),
        "/exactly-1mib": lambda: Response(_padded(MIB), media_type=AS_JSON),
        "/declared-too-big": lambda: Response(_padded(MIB + 1), media_type=AS_JSON),
        "/streamed-too-big": lambda: StreamingResponse(_chunks(_padded(MIB + 1)), media_type=AS_JSON),
        "/gzipped": lambda: Response(gzip.compress(b'{"id":"http://moers.test/gzipped"}'), media_type=AS_JSON,
                                     headers={"Content-Encoding": "gzip"}),
        "/gzip-bomb": lambda: Response(gzip.compress(_padded(8 * MIB)), media_type=AS_JSON,
                                       headers={"Content-Encoding": "gzip"}),
        "/brotli": lambda: Response(b"\x0b\x02\x80{}\x03", media_type=AS_JSON, headers={"Content-Encoding": "br"}),
        "/html": lambda: Response("<html>hello</html>", media_type="text/html"),
        "/untyped": lambda: Response(b'{"id":"http://moers.test/untyped"}'),
        "/plain-json": lambda: Response(b'{"id":"http://moers.test/plain-json"}', media_type="application/json"),
        "/ld-json": lambda: Response(b'{"id":"http://moers.test/ld-json"}', media_type=(
            'application/ld+json; profile="https://www.w3.org/ns/activitystreams"')),
        "/gone": lambda: Response(status_code=410),
        "/missing": lambda: Response(status_code=404),
        "/error": lambda: Response(status_code=500),
        "/unauthorized": lambda: Response(status_code=401),
        "/array": lambda: JSONResponse([1, 2], media_type=AS_JSON),
        "/broken": lambda: Response(b'{"id": ', media_type=AS_JSON),
        "/deep": lambda: Response(b"[" * 100_000 + b"]" * 100_000, media_type=AS_JSON),
        "/elsewhere": lambda: JSONResponse({"id": "http://solingen.test/users/bob"}, media_type=AS_JSON),
        "/other-port": lambda: JSONResponse({"id": "http://moers.test:8080/users/alice"}, media_type=AS_JSON),
        "/no-id": lambda: JSONResponse({"type": "Note"}, media_type=AS_JSON),
    }
    return fixed[path]() if path in fixed else Response(status_code=404)


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 65_536):
        yield body[start:start + 65_536]


def _webfinger(request: Request) -> Response:
    resource = request.query_params.get("resource", "")
    host = request.headers["host"]
    if resource == f"acct:alice@{host}":
        base = f"{request.url.scheme}://{host}"
        return JSONResponse(webfinger.render_jrd(resource, f"{base}/users/alice", f"{base}/@alice", []),
                            media_type="application/jrd+json")
    if resource == f"acct:carla@{host}":  # a self link that is not http(s)
        return JSONResponse({"links": [{"rel": "self", "type": AS_JSON, "href": "ftp://x/carla"}]},
                            media_type="application/jrd+json")
    return Response(status_code=404)


def _peer_app(peer: Peer) -> Starlette:
    async def verified(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            params = signatures.verify_request("GET", target, request.headers, None, PUBLIC_PEM,
                                               peer.now or datetime.now(timezone.utc),
                                               expected_host=request.headers["host"])
        except signatures.SignatureError as exc:
            return Response(exc.reason, status_code=401)
        peer.seen.append(Seen(request.headers["host"], request.url.scheme, target, params.key_id,
                              dict(request.headers)))
        if request.url.path == "/.well-known/webfinger":
            return _webfinger(request)
        return await _endpoint(request)

    return Starlette(routes=[Route("/{path:path}", verified)])


@pytest.fixture
def peer() -> Peer:
    return Peer()


@pytest.fixture
async def fetcher(peer: Peer) -> AsyncIterator[Fetcher]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_peer_app(peer))) as client:
        yield Fetcher(client, key_id=KEY_ID, private_pem=PRIVATE_PEM, user_agent="fedserver/test (+krefeld.test)")


@pytest.fixture
async def insecure_fetcher(peer: Peer) -> AsyncIterator[Fetcher]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_peer_app(peer))) as client:
        yield Fetcher(client, key_id=KEY_ID, private_pem=PRIVATE_PEM, user_agent="t", insecure_http=True)


def _bounded(action: Awaitable[Any]) -> Awaitable[Any]:
    async def run() -> Any:
        with anyio.fail_after(10):
            return await action
    return run()


async def test_fetch_is_signed_as_the_instance_actor(fetcher: Fetcher, peer: Peer) -> None:
    doc = await _bounded(fetcher.fetch_json("http://moers.test/users/alice"))
    assert doc == {"id": "http://moers.test/users/alice", "type": "Person"}
    [seen] = peer.seen
    assert (seen.host, seen.target, seen.key_id) == ("moers.test", "/users/alice", KEY_ID)
    assert seen.headers["accept"] == ('application/activity+json, '
                                      'application/ld+json; profile="https://www.w3.org/ns/activitystreams"')
    assert seen.headers["user-agent"] == "fedserver/test (+krefeld.test)"


async def test_fetch_signs_with_the_given_clock(fetcher: Fetcher, peer: Peer) -> None:
    peer.now = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    await _bounded(fetcher.fetch_json("http://moers.test/users/alice", now=peer.now))
    assert peer.seen[0].headers["date"] == "Wed, 01 May 2024 12:00:00 GMT"


async def test_redirects_are_followed_and_every_hop_is_signed_for_its_host(fetcher: Fetcher, peer: Peer) -> None:
    assert (await _bounded(fetcher.fetch_object("http://moers.test/away")))["id"] == "http://solingen.test/users/carla"
    assert [(seen.host, seen.target) for seen in peer.seen] == [("moers.test", "/away"),
                                                                ("solingen.test", "/users/carla")]
    peer.seen.clear()
    assert (await _bounded(fetcher.fetch_json("http://moers.test/relative")))["id"] == "http://moers.test/users/alice"
    assert [seen.target for seen in peer.seen] == ["/relative", "/users/alice"]


async def test_three_redirects_are_followed(fetcher: Fetcher, peer: Peer) -> None:
    await _bounded(fetcher.fetch_json("http://moers.test/hop/2"))
    assert [seen.target for seen in peer.seen] == ["/hop/2", "/hop/1", "/hop/0", "/users/alice"]


async def test_a_fourth_redirect_is_refused_without_following_it(fetcher: Fetcher, peer: Peer) -> None:
    with pytest.raises(PeerUnavailable, match="more than 3 redirects"):
        await _bounded(fetcher.fetch_json("http://moers.test/hop/3"))
    assert [seen.target for seen in peer.seen] == ["/hop/3", "/hop/2", "/hop/1", "/hop/0"]


async def test_redirect_to_another_scheme_is_refused(fetcher: Fetcher) -> None:
    with pytest.raises(NotAllowed, match="only absolute http"):
        await _bounded(fetcher.fetch_json("http://moers.test/to-ftp"))


async def test_redirect_from_https_to_http_is_refused_unless_insecure(fetcher: Fetcher,
                                                                     insecure_fetcher: Fetcher) -> None:
    with pytest.raises(NotAllowed, match="redirected to plain http"):
        await _bounded(fetcher.fetch_json("https://moers.test/downgrade"))
    assert (await _bounded(insecure_fetcher.fetch_json("https://moers.test/downgrade")))["id"].startswith("http:")


@pytest.mark.parametrize("url", ["ftp://moers.test/x", "file:///etc/passwd", "/users/alice", "http://"])
async def test_only_absolute_http_urls_are_fetched(fetcher: Fetcher, peer: Peer, url: str) -> None:
    with pytest.raises((NotAllowed, MalformedObject)):
        await _bounded(fetcher.fetch_json(url))
    assert peer.seen == []


async def test_a_body_of_exactly_the_limit_is_read(fetcher: Fetcher) -> None:
    assert (await _bounded(fetcher.fetch_json("http://moers.test/exactly-1mib")))["id"] == "http://moers.test/big"


@pytest.mark.parametrize("path", ["/declared-too-big", "/streamed-too-big", "/gzip-bomb"])
async def test_a_body_over_one_mebibyte_is_refused(fetcher: Fetcher, path: str) -> None:
    with pytest.raises(MalformedObject, match="more than 1048576 bytes"):
        await _bounded(fetcher.fetch_json(f"http://moers.test{path}"))


async def test_gzip_is_inflated(fetcher: Fetcher, peer: Peer) -> None:
    assert await _bounded(fetcher.fetch_json("http://moers.test/gzipped")) == {"id": "http://moers.test/gzipped"}
    assert peer.seen[0].headers["accept-encoding"] == "gzip"


async def test_an_encoding_we_did_not_ask_for_is_refused(fetcher: Fetcher) -> None:
    with pytest.raises(MalformedObject, match="Content-Encoding"):
        await _bounded(fetcher.fetch_json("http://moers.test/brotli"))


@pytest.mark.parametrize("path", ["/html", "/untyped"])
async def test_a_body_that_is_not_json_by_type_is_refused(fetcher: Fetcher, path: str) -> None:
    with pytest.raises(MalformedObject, match="^Content-Type: "):
        await _bounded(fetcher.fetch_json(f"http://moers.test{path}"))


@pytest.mark.parametrize("path", ["/plain-json", "/ld-json"])
async def test_json_media_types_are_accepted(fetcher: Fetcher, path: str) -> None:
    assert (await _bounded(fetcher.fetch_json(f"http://moers.test{path}")))["id"] == f"http://moers.test{path}"


@pytest.mark.parametrize(("path", "reason"), [("/array", "not an object"), ("/broken", "valid JSON"),
                                              ("/deep", "valid JSON")])
async def test_json_that_is_not_an_object_is_malformed(fetcher: Fetcher, path: str, reason: str) -> None:
    with pytest.raises(MalformedObject, match=reason):
        await _bounded(fetcher.fetch_json(f"http://moers.test{path}"))


@pytest.mark.parametrize(("path", "status"), [("/gone", 410), ("/missing", 404)])
async def test_404_and_410_are_gone(fetcher: Fetcher, path: str, status: int) -> None:
    with pytest.raises(Gone) as caught:
        await _bounded(fetcher.fetch_json(f"http://moers.test{path}"))
    assert (caught.value.status, caught.value.is_deleted) == (status, status == 410)
    assert caught.value.url == f"http://moers.test{path}"


@pytest.mark.parametrize(("path", "status"), [("/error", 500), ("/unauthorized", 401)])
async def test_other_errors_are_peer_unavailable_with_the_status(fetcher: Fetcher, path: str, status: int) -> None:
    with pytest.raises(UnexpectedStatus) as caught:
        await _bounded(fetcher.fetch_json(f"http://moers.test{path}"))
    assert caught.value.status == status
    assert isinstance(caught.value, PeerUnavailable)


@pytest.mark.parametrize("path", ["/elsewhere", "/other-port"])
async def test_fetch_object_refuses_an_id_from_another_origin(fetcher: Fetcher, path: str) -> None:
    with pytest.raises(OriginMismatch, match=f"http://moers.test{path}"):
        await _bounded(fetcher.fetch_object(f"http://moers.test{path}"))
    await _bounded(fetcher.fetch_json(f"http://moers.test{path}"))  # fetch_json does not judge ids


async def test_fetch_object_needs_an_id(fetcher: Fetcher) -> None:
    with pytest.raises(MalformedObject, match="^id: "):
        await _bounded(fetcher.fetch_object("http://moers.test/no-id"))


# ---------------------------------------------------------------------------------------------
# WebFinger
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("handle", ["@alice@moers.test", "alice@moers.test", "alice@MOERS.test"])
async def test_resolve_handle_over_https_by_default(fetcher: Fetcher, peer: Peer, handle: str) -> None:
    assert await _bounded(fetcher.resolve_handle(handle)) == "https://moers.test/users/alice"
    [seen] = peer.seen
    assert (seen.scheme, seen.target) == ("https", "/.well-known/webfinger?resource=acct:alice@moers.test")
    assert seen.headers["accept"] == "application/jrd+json, application/json"


async def test_resolve_handle_over_http_for_test_cities(insecure_fetcher: Fetcher, fetcher: Fetcher,
                                                        peer: Peer) -> None:
    assert await _bounded(insecure_fetcher.resolve_handle("alice@localhost:8001")) == \
        "http://localhost:8001/users/alice"
    assert await _bounded(fetcher.resolve_handle("alice@moers.test", scheme="http")) == \
        "http://moers.test/users/alice"
    assert peer.seen[0].host == "localhost:8001"


async def test_resolve_unknown_handle_is_gone(fetcher: Fetcher) -> None:
    with pytest.raises(Gone) as caught:
        await _bounded(fetcher.resolve_handle("nobody@moers.test"))
    assert caught.value.status == 404


async def test_resolve_handle_refuses_a_self_link_that_is_not_http(fetcher: Fetcher) -> None:
    with pytest.raises(MalformedObject, match="^links: "):
        await _bounded(fetcher.resolve_handle("carla@moers.test"))


@pytest.mark.parametrize("handle", ["alice", "@alice", "alice@", "@alice@", "alice@@moers.test",
                                    "alice@moers.test/path", "alice@moers.test?x=1", "al ice@moers.test",
                                    "alice@moers.test@evil.test", "", "https://moers.test/@alice"])
async def test_malformed_handles_are_refused_before_any_request(fetcher: Fetcher, peer: Peer,
                                                                handle: str) -> None:
    with pytest.raises(MalformedObject, match="^resource: "):
        await _bounded(fetcher.resolve_handle(handle))
    assert peer.seen == []


# ---------------------------------------------------------------------------------------------
# Real sockets on 127.0.0.1: an endless body, a silent server, a trickling server, a closed port.
# ---------------------------------------------------------------------------------------------
@dataclass
class Misbehaving:
    """A loopback server that sends `head` and then calls `tail` until the client goes away."""

    head: bytes
    tail: Callable[[asyncio.StreamWriter], Awaitable[None]]
    sent: int = 0
    port: int = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(self.head)
            with anyio.move_on_after(10):  # bounded even if the client never hangs up
                while True:
                    await self.tail(writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client hung up: what these tests want
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Misbehaving]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            await server.wait_closed()


@asynccontextmanager
async def _loopback_fetcher(timeout: float = 10.0) -> AsyncIterator[Fetcher]:
    async with httpx.AsyncClient(transport=guarded_transport(True)) as client:
        yield Fetcher(client, key_id=KEY_ID, private_pem=PRIVATE_PEM, user_agent="t", timeout=timeout)


async def test_an_endless_body_stops_being_read_past_the_limit() -> None:
    chunk = b"a" * 65_536

    async def endless(writer: asyncio.StreamWriter) -> None:
        writer.write(chunk)
        await writer.drain()
        server.sent += len(chunk)

    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\nConnection: close\r\n\r\n{\"a\":\""
    async with Misbehaving(head, endless).running() as server, _loopback_fetcher() as fetcher:
        started = time.perf_counter()
        with pytest.raises(MalformedObject, match="more than 1048576 bytes"):
            await _bounded(fetcher.fetch_json(f"http://127.0.0.1:{server.port}/endless"))
        elapsed = time.perf_counter() - started
    # What the server got out before the fetcher hung up: the limit plus the socket buffers.
    assert MIB < server.sent < 64 * MIB, server.sent  # measured: ~5.5 MB with Linux loopback buffers
    assert elapsed < 5, elapsed


async def test_a_silent_server_times_out() -> None:
    async def silent(writer: asyncio.StreamWriter) -> None:
        await anyio.sleep(1)

    async with Misbehaving(b"", silent).running() as server, _loopback_fetcher(timeout=0.3) as fetcher:
        started = time.perf_counter()
        with pytest.raises(PeerUnavailable, match="Timeout|within"):
            await _bounded(fetcher.fetch_json(f"http://127.0.0.1:{server.port}/"))
    assert time.perf_counter() - started < 2


async def test_a_trickling_server_hits_the_overall_deadline() -> None:
    async def trickle(writer: asyncio.StreamWriter) -> None:  # each read is quick, the whole is not
        writer.write(b" ")
        await writer.drain()
        await anyio.sleep(0.05)

    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\nConnection: close\r\n\r\n"
    async with Misbehaving(head, trickle).running() as server, _loopback_fetcher(timeout=0.5) as fetcher:
        started = time.perf_counter()
        with pytest.raises(PeerUnavailable, match="no complete answer within 0.5 s"):
            await _bounded(fetcher.fetch_json(f"http://127.0.0.1:{server.port}/"))
    assert time.perf_counter() - started < 2


async def test_a_closed_port_is_peer_unavailable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with _loopback_fetcher() as fetcher:
        with pytest.raises(PeerUnavailable, match="ConnectError"):
            await _bounded(fetcher.fetch_json(f"http://127.0.0.1:{port}/"))


async def test_the_guard_refusal_is_not_allowed_rather_than_unavailable() -> None:
    async with httpx.AsyncClient(transport=guarded_transport(False)) as client:
        fetcher = Fetcher(client, key_id=KEY_ID, private_pem=PRIVATE_PEM, user_agent="t")
        with pytest.raises(NotAllowed, match="127.0.0.1"):
            await _bounded(fetcher.fetch_json("http://127.0.0.1:9/"))
