"""Streaming endpoints (docs.joinmastodon.org/methods/streaming): health, WebSocket, server-sent events.

The WebSocket at /api/v1/streaming takes `stream=` in the query and `{"type": "subscribe", ...}`
messages, and sends `{"stream": [...], "event": ..., "payload": "<JSON as a string>"}`. The
server-sent-event endpoints send `event:` and `data:` lines, with a `:thump` comment every 15
seconds to keep proxies from closing the connection, as Mastodon's streaming server does.
Either ends when the server shuts down or when the hub finds the token no longer works (close
code 1008 on a WebSocket; an event stream simply ends, and reconnecting is refused with 401).
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from fedserver.api.mastodon.streaming import channels, render
from fedserver.api.mastodon.streaming.channels import StreamError, Viewer
from fedserver.api.mastodon.streaming.hub import REVOKED, Client, Close, Event, Hub, Listener, Queue, new_queue
from fedserver.api.responses import error
from fedserver.site import Site

log = logging.getLogger(__name__)

HEARTBEAT = 15.0  # seconds between `:thump` comments on an idle event stream


async def health(request: Request) -> Response:
    """GET /api/v1/streaming/health: plain OK, as Mastodon's streaming server answers."""
    return PlainTextResponse("OK")


def event_stream(channel: str) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint streaming one channel as server-sent events (GET /api/v1/streaming/<channel>)."""

    async def handler(request: Request) -> Response:
        site: Site = request.app.state.site
        try:
            viewer = await channels.authenticate(site.sessions, channels.token_of(request))
            async with site.sessions() as session:
                resolved = await channels.resolve(session, viewer, channel, request.query_params)
        except StreamError as exc:
            return error(exc.status, exc.message)
        listener = Listener(resolved.streams, resolved.name, new_queue())
        return StreamingResponse(_server_sent(site, request.app.state.streaming, viewer, listener),
                                 media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    return handler


async def _server_sent(site: Site, hub: Hub, viewer: Viewer, listener: Listener) -> AsyncIterator[str]:
    client = _client_of(viewer, listener.queue)
    hub.join(listener)  # joined only once the response runs, so no listener outlives its request
    if client is not None:
        hub.connect(client)
    try:
        yield ":)\n"
        while True:
            try:
                first = await asyncio.wait_for(listener.queue.get(), HEARTBEAT)
            except asyncio.TimeoutError:
                yield ":thump\n"
                continue
            batch, closing = _drain(listener.queue, first)
            for _, name, payload in await _render(site, viewer, batch):
                yield f"event: {name}\ndata: {payload}\n\n"
            if closing is not None:
                return
    finally:
        hub.leave(listener)
        if client is not None:
            hub.disconnect(client)


def _client_of(viewer: Viewer, queue: Queue) -> Client | None:
    """The connection as the hub watches it; a viewer made without a token (tests) is not watched."""
    return None if viewer.token_id is None else Client(viewer.token_id, queue)


async def websocket_stream(websocket: WebSocket) -> None:
    """WS /api/v1/streaming: many subscriptions over one connection."""
    site: Site = websocket.app.state.site
    try:
        viewer = await channels.authenticate(site.sessions, channels.token_of(websocket))
    except StreamError as exc:
        await _deny(websocket, exc)
        return
    await websocket.accept(subprotocol=channels.offered_protocol(websocket))
    connection = _Connection(websocket, site, websocket.app.state.streaming, viewer)
    try:
        if websocket.query_params.get("stream"):
            await connection.subscribe(websocket.query_params["stream"], websocket.query_params)
        async with anyio.create_task_group() as group:
            async def send_then_stop() -> None:
                await connection.send_events()
                group.cancel_scope.cancel()

            group.start_soon(send_then_stop)
            await connection.receive_commands()
            group.cancel_scope.cancel()
    finally:
        connection.leave_all()


class _Connection:
    """One WebSocket client: its subscriptions share one queue, each event is tagged with its subscription."""

    def __init__(self, websocket: WebSocket, site: Site, hub: Hub, viewer: Viewer) -> None:
        self.websocket, self.site, self.hub, self.viewer = websocket, site, hub, viewer
        self.queue: Queue = new_queue()
        self.subscriptions: dict[frozenset[str], Listener] = {}
        self.client = _client_of(viewer, self.queue)
        if self.client is not None:
            hub.connect(self.client)  # watched from the start, subscribed or not

    async def subscribe(self, channel: str, params: Mapping[str, Any]) -> None:
        """Add a subscription; a refusal is sent as {"error": ..., "status": ...} and the socket stays open."""
        resolved = await self._resolve(channel, params)
        if resolved is None or resolved.streams in self.subscriptions:
            return
        listener = Listener(resolved.streams, resolved.name, self.queue)
        self.subscriptions[resolved.streams] = listener
        self.hub.join(listener)

    async def unsubscribe(self, channel: str, params: Mapping[str, Any]) -> None:
        resolved = await self._resolve(channel, params)
        if resolved is not None and resolved.streams in self.subscriptions:
            self.hub.leave(self.subscriptions.pop(resolved.streams))

    async def _resolve(self, channel: str, params: Mapping[str, Any]) -> channels.Channel | None:
        try:
            async with self.site.sessions() as session:
                return await channels.resolve(session, self.viewer, channel,
                                              {key: str(value) for key, value in params.items()})
        except StreamError as exc:
            await self.websocket.send_text(json.dumps({"error": exc.message, "status": exc.status}))
            return None

    async def receive_commands(self) -> None:
        """Read subscribe and unsubscribe messages until the client goes away; anything else is ignored."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                command = json.loads(message.get("text") or message.get("bytes") or b"")
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if not isinstance(command, dict) or not isinstance(command.get("stream"), (str, list)):
                continue
            stream = command["stream"][0] if isinstance(command["stream"], list) else command["stream"]
            params = {key: value for key, value in command.items() if key not in ("type", "stream")}
            if command.get("type") == "subscribe":
                await self.subscribe(str(stream), params)
            elif command.get("type") == "unsubscribe":
                await self.unsubscribe(str(stream), params)

    async def send_events(self) -> None:
        """Send what the hub hands over, until the server shuts down (close code 1001, going away)."""
        while True:
            batch, closing = _drain(self.queue, await self.queue.get())
            live = set(self.subscriptions.values())
            for listener, name, payload in await _render(self.site, self.viewer, batch):
                if listener in live:  # unsubscribed meanwhile: drop what was already queued
                    await self.websocket.send_text(json.dumps({"stream": list(listener.name), "event": name,
                                                               "payload": payload}))
            if closing is not None:
                await self.websocket.close(closing.code, closing.reason)
                return

    def leave_all(self) -> None:
        for listener in self.subscriptions.values():
            self.hub.leave(listener)
        self.subscriptions.clear()
        if self.client is not None:
            self.hub.disconnect(self.client)


def _drain(queue: Queue, first: tuple[Listener, Event] | Close) -> tuple[list[tuple[Listener, Event]], Close | None]:
    """The first item and whatever else is already queued, and how to close when the hub asked to."""
    batch: list[tuple[Listener, Event]] = []
    item = first
    while True:
        if isinstance(item, Close):
            return ([] if item is REVOKED else batch), item  # a dead token gets nothing more, not even what was queued
        batch.append(item)
        try:
            item = queue.get_nowait()
        except asyncio.QueueEmpty:
            return batch, None


async def _render(site: Site, viewer: Viewer, batch: list[tuple[Listener, Event]]) -> list[render.Outgoing]:
    if not batch:
        return []
    async with site.sessions() as session:
        return await render.render_batch(session, site.urls, viewer, batch)


async def _deny(websocket: WebSocket, exc: StreamError) -> None:
    """Refuse the upgrade with Mastodon's status and JSON error where the server can send one."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error(exc.status, exc.message))
    else:  # closing before accepting makes the server answer 403
        await websocket.close(code=1008)


_SSE = {"user": "user", "user/notification": "user:notification", "public": "public",
        "public/local": "public:local", "public/remote": "public:remote", "hashtag": "hashtag",
        "hashtag/local": "hashtag:local", "list": "list", "direct": "direct"}

ROUTES: list[BaseRoute] = [
    Route("/api/v1/streaming/health", health, methods=["GET", "HEAD"]),
    WebSocketRoute("/api/v1/streaming", websocket_stream),
    WebSocketRoute("/api/v1/streaming/", websocket_stream),
    *(Route(f"/api/v1/streaming/{path}", event_stream(channel), methods=["GET"]) for path, channel in _SSE.items()),
]
