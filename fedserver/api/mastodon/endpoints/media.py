"""Media endpoints (docs.joinmastodon.org/methods/media): upload, look at, describe and delete images.

Images are processed while the client waits, so v2 answers 200 with the finished entity, never 202.
"""
from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.routing import Route

from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.api.mastodon.entities.media import render_media
from fedserver.local import media
from fedserver.local.errors import Invalid


async def _upload(call: Call) -> dict[str, Any]:
    file = call.params.get("file")
    if not isinstance(file, UploadFile):
        raise Invalid("file", "ERR_BLANK", "a file is needed: send it as the multipart field `file`")
    data = await file.read(media.MAX_BYTES + 1)  # never more than one byte past the limit in memory
    item = await media.upload(call.session, call.site.settings.media_dir, call.me.actor, data,
                              description=call.text("description") or "", focus=call.text("focus"), now=call.now)
    return render_media(call.site.urls, item)


@endpoint(scope="write:media", user=True, write=True)
async def create_v1(call: Call) -> dict[str, Any]:
    """POST /api/v1/media: upload an image for a later status."""
    return await _upload(call)


@endpoint(scope="write:media", user=True, write=True)
async def create_v2(call: Call) -> dict[str, Any]:
    """POST /api/v2/media: the same, answered 200 because processing is already done."""
    return await _upload(call)


@endpoint(scope="write:media", user=True)
async def show(call: Call) -> dict[str, Any]:
    """GET /api/v1/media/:id: one of the caller's uploads not yet attached (Mastodon: 404 otherwise)."""
    item = await media.find_own(call.session, call.me.actor, call.path_id(), unattached=True)
    return render_media(call.site.urls, item)


@endpoint(scope="write:media", user=True, write=True)
async def update(call: Call) -> dict[str, Any]:
    """PUT /api/v1/media/:id: change description or focus while the upload is not attached."""
    item = await media.find_own(call.session, call.me.actor, call.path_id(), unattached=True)
    await media.update(call.session, item, description=call.text("description"), focus=call.text("focus"))
    return render_media(call.site.urls, item)


@endpoint(scope="write:media", user=True, write=True)
async def destroy(call: Call) -> dict[str, Any]:
    """DELETE /api/v1/media/:id: remove an unattached upload and its files (Mastodon 4.4)."""
    item = await media.find_own(call.session, call.me.actor, call.path_id())
    try:
        await media.delete_unattached(call.session, item)
    except Invalid as exc:
        raise ApiError(422, str(exc)) from None
    return {}


ROUTES = [
    Route("/api/v1/media", create_v1, methods=["POST"]),
    Route("/api/v2/media", create_v2, methods=["POST"]),
    Route("/api/v1/media/{id}", show, methods=["GET"]),
    Route("/api/v1/media/{id}", update, methods=["PUT"]),
    Route("/api/v1/media/{id}", destroy, methods=["DELETE"]),
]
