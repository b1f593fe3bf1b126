"""A signed-in or anonymous visitor of the web UI: an httpx client that keeps cookies and fills in forms."""
from __future__ import annotations

import re
from typing import Any

import httpx

try:
    from tests.cities import PASSWORD, City
except ModuleNotFoundError:  # tests/ as a plain directory on sys.path
    from cities import PASSWORD, City  # type: ignore[no-redef]

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found[1]


class Visitor:
    """One browser: its own cookie jar, speaking to the city over ASGI."""

    def __init__(self, city: City) -> None:
        self.city = city
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=city.app),
                                        base_url=city.settings.base_url)

    async def __aenter__(self) -> Visitor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def submit(self, form_page: str, action: str, data: dict[str, str] | None = None,
                     files: dict[str, Any] | None = None) -> httpx.Response:
        """GET the page with the form (for its CSRF token), then POST the form."""
        page = await self.client.get(form_page)
        assert page.status_code < 400, f"{form_page}: {page.status_code}"
        return await self.client.post(action, data={"csrf_token": csrf_token(page.text), **(data or {})},
                                      files=files)

    async def log_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        response = await self.submit("/login", "/login", {"login": username, "password": password})
        assert response.status_code == 303, response.text
        return response
