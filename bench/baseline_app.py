"""The ceiling: a bare Starlette app with one small JSON endpoint (DESIGN.md "What costs what")."""
from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request: Request) -> JSONResponse:
    """The cheapest JSON answer Starlette can give: no database, no templates."""
    return JSONResponse({"hello": "world"}, media_type="application/activity+json")


app = Starlette(routes=[Route("/hello", hello)])
