"""Public HTML pages: the city's landing page, profiles, posts and hashtags (German first)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from fedserver.ids import InvalidId, parse_id
from fedserver.local import accounts, statuses, timelines
from fedserver.local import html as html_cleaner
from fedserver.local.errors import NotFound
from fedserver.site import Site

HERE = Path(__file__).parent
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
# Strict CSP: no inline scripts, no third-party anything (the city's data stays here).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
                               "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
def safe_html(html: str) -> Markup:
    """User and remote HTML cleaned by nh3 before it reaches a page."""
    return Markup(html_cleaner.clean(html))  # noqa: S704 - nh3 output is safe by construction


templates.filters["safe_html"] = safe_html


def optional_id(request: Request, name: str) -> int | None:
    """A paging cursor from the query string, or None; raises InvalidId for garbage."""
    value = request.query_params.get(name)
    return None if not value else parse_id(value, name)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    site: Site = request.app.state.site
    html = templates.get_template(name).render(city=site.settings.city, urls=site.urls, request=request, **context)
    return HTMLResponse(html, status_code, headers=SECURITY_HEADERS)


def not_found(request: Request, message: str) -> HTMLResponse:
    return render(request, "error.html", 404, title="Nicht gefunden", message=message)


async def landing(request: Request) -> Response:
    site: Site = request.app.state.site
    try:
        max_id = optional_id(request, "max_id")
    except InvalidId as exc:
        return render(request, "error.html", 400, title="Ungültige Seite", message=str(exc))
    async with site.sessions() as session:
        posts = await timelines.local_public(session, max_id=max_id, limit=20)
    return render(request, "landing.html", posts=posts, registrations=site.settings.registrations)


async def profile(request: Request) -> Response:
    site: Site = request.app.state.site
    try:
        max_id = optional_id(request, "max_id")
        async with site.sessions() as session:
            account = await accounts.find_by_username(session, request.path_params["username"])
            posts = await timelines.by_author_public(session, account.actor.id, max_id=max_id, limit=20)
    except NotFound:
        return not_found(request, f"Hier gibt es kein Konto @{request.path_params['username']}.")
    except InvalidId as exc:
        return render(request, "error.html", 400, title="Ungültige Seite", message=str(exc))
    return render(request, "profile.html", account=account, actor=account.actor, posts=posts)


async def status_page(request: Request) -> Response:
    site: Site = request.app.state.site
    try:
        async with site.sessions() as session:
            status, author = await statuses.find_local(session, parse_id(request.path_params["status_id"]))
    except (NotFound, InvalidId):
        status = None
    if status is None or not statuses.is_listed(status) or author.username_key != request.path_params["username"].lower():
        return not_found(request, "Diesen Beitrag gibt es nicht, oder er ist nicht öffentlich.")
    return render(request, "status.html", status=status, author=author)


async def tag_page(request: Request) -> Response:
    site: Site = request.app.state.site
    tag = request.path_params["tag"]
    try:
        max_id = optional_id(request, "max_id")
    except InvalidId as exc:
        return render(request, "error.html", 400, title="Ungültige Seite", message=str(exc))
    async with site.sessions() as session:
        posts = await timelines.tagged_public(session, tag, max_id=max_id, limit=20)
    return render(request, "tag.html", tag=tag, posts=posts)


ROUTES = [
    Route("/", landing),
    Route("/@{username}", profile),
    Route("/@{username}/{status_id}", status_page),
    Route("/tags/{tag}", tag_page),
    Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
]
