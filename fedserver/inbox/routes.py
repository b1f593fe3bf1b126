"""POST to the shared and personal inboxes: verify, store durably, answer 202."""
from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedserver.inbox.context import InboxDeps
from fedserver.inbox.verify import MAX_BODY_BYTES, Ignored, Refused, verify_post
from fedserver.local import accounts
from fedserver.local.errors import NotFound

log = logging.getLogger(__name__)


def _error(status_code: int, message: str) -> Response:
    import json

    return Response(json.dumps({"error": message}), status_code, media_type="application/json")


async def _read_body(request: Request) -> bytes:
    """The body, refusing to read past the size limit (Content-Length may be missing or lie)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refused(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def shared_inbox(request: Request) -> Response:
    return await _receive(request)


async def personal_inbox(request: Request) -> Response:
    deps: InboxDeps = request.app.state.inbox
    try:
        async with deps.sessions() as session:
            await accounts.find_by_username(session, request.path_params["username"])
    except NotFound as exc:
        return _error(404, str(exc))
    return await _receive(request)


async def _receive(request: Request) -> Response:
    deps: InboxDeps = request.app.state.inbox
    now = deps.clock()
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        body = await _read_body(request)
        verified = await verify_post(deps, path_with_query=path, headers=request.headers, body=body, now=now)
    except Refused as exc:
        log.info("inbox refused a POST to %s: %s", request.url.path, exc.reason)
        return _error(exc.status_code, exc.reason)
    except Ignored:
        return Response(status_code=202)
    is_new = await deps.intake.store(activity_ap_id=verified.activity_id, actor_ap_id=verified.actor_ap_id,
                                     activity_type=verified.activity_type, body=body.decode("utf-8"), now=now)
    log.info("inbox %s %s %s from %s", "stored" if is_new else "already had", verified.activity_type,
             verified.activity_id, verified.actor_ap_id)
    return Response(status_code=202)


ROUTES = [
    Route("/inbox", shared_inbox, methods=["POST"]),
    Route("/actor/inbox", shared_inbox, methods=["POST"]),
    Route("/users/{username}/inbox", personal_inbox, methods=["POST"]),
]
