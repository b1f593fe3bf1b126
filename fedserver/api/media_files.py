"""GET /media/<path>: the city's uploaded images, by the random names fedserver.local.media gave them.

Only names of exactly that shape are looked up, so no path (../, absolute, encoded) can leave the
media dir; the content type comes from our own suffix, never from the file or the request.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from fedserver.api.responses import error
from fedserver.local.media import CONTENT_TYPE, FILE_NAME
from fedserver.site import Site

HEADERS = {
    # A name is never reused: deleted media answer 404 and new uploads get new names.
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Access-Control-Allow-Origin": "*",
}


async def media_file(request: Request) -> Response:
    """One stored image or preview; 404 for any other name."""
    site: Site = request.app.state.site
    name = str(request.path_params["path"])
    path = site.settings.media_dir / name
    if not FILE_NAME.fullmatch(name) or not path.is_file():
        return error(404, "there is no such file")
    return FileResponse(path, media_type=CONTENT_TYPE[name.rsplit(".", 1)[1]], headers=HEADERS)


ROUTES = [Route("/media/{path:path}", media_file, methods=["GET", "HEAD"])]
