"""Templates: one jinja2 environment per language (jinja2.ext.i18n with the Babel catalogues), the filters
every page uses, and the security headers every answer carries."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from fedserver.local import html as html_cleaner
from webui import i18n

TEMPLATES = Path(__file__).parent / "templates"
TIME_ZONE = ZoneInfo("Europe/Berlin")  # the city's clock; every city we serve is in Germany so far
# Strict CSP: no inline scripts or styles, nothing from third parties (the city's data stays here).
# img-src https: shows remote avatars and media as their servers host them.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
                               "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
                               "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=2048)  # a few MB at most: posts are short, and a page shows at most 40
def safe_html(html: str | None) -> Markup:
    """User and remote HTML cleaned by nh3 before it reaches a page; the same post is cleaned once, not on
    every page that shows it (the cache is keyed by the HTML itself, so an edit is cleaned anew)."""
    return Markup(html_cleaner.clean(html or ""))  # noqa: S704 - nh3 output is safe by construction


@lru_cache(maxsize=None)
def environment(language: str) -> Environment:
    """The template environment of one language; built once, templates cached inside it."""
    # auto_reload=False: templates ship with the code, so there is no need to stat each one on every render.
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["safe_html"] = safe_html
    env.filters["when"] = lambda moment: when(moment, language)
    env.globals["language"] = language
    env.globals["language_names"] = i18n.LANGUAGE_NAMES
    return env


@lru_cache(maxsize=4096)
def when(moment: datetime, language: str) -> str:
    """A post's time as people of that language write it, on the city's clock."""
    return format_datetime(moment, "short", tzinfo=TIME_ZONE, locale=language)


def render(language: str, name: str, context: dict[str, Any]) -> str:
    return environment(language).get_template(name).render(context)


def post_html(language: str, post: Any) -> str:
    """One post as anonymous visitors see it (feeds.Post), without the page around it."""
    context = {"post": post, "viewer": None, "request": _NoRequest(), "csrf_token": ""}
    return environment(language).get_template("_partials/post.html").render(context)


class _NoRequest:
    """Stands in for the request where a post is drawn outside a page (no links back to a page needed)."""

    class url:  # noqa: N801 - shaped like starlette's request.url
        path = "/"
        query = ""
