"""Unknown paths: browsers get the web UI's error page in their language; API and ActivityPub clients get JSON."""
from __future__ import annotations

import pytest

from tests.cities import City
from tests.webui.browser import Visitor

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # Firefox's Accept for a page


async def test_browser_gets_a_translated_404_page(moers: City) -> None:
    async with Visitor(moers) as visitor:
        german = await visitor.get("/gibt-es-nicht", headers={"Accept": BROWSER})
        english = await visitor.get("/gibt-es-nicht", headers={"Accept": BROWSER, "Accept-Language": "en-GB,en"})
    assert german.status_code == 404 and german.headers["content-type"].startswith("text/html")
    assert "<h1>Nicht gefunden</h1>" in german.text and 'href="/login"' in german.text
    assert "content-security-policy" in german.headers
    assert english.status_code == 404 and "<h1>Not found</h1>" in english.text


async def test_signed_in_resident_keeps_the_header_on_a_404_page(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        response = await alice.get("/nirgendwo/tief", headers={"Accept": BROWSER})
    assert response.status_code == 404 and 'href="/@alice"' in response.text and 'href="/login"' not in response.text


@pytest.mark.parametrize(("path", "accept"), [
    ("/gibt-es-nicht", "application/json"),
    ("/gibt-es-nicht", "*/*"),
    ("/gibt-es-nicht", ""),
    ("/gibt-es-nicht", "application/activity+json, text/html;q=0.5"),
    ("/gibt-es-nicht", "text/html;q=0, application/json"),
    ("/api/v1/gibt-es-nicht", BROWSER),
    ("/users/nobody", "application/activity+json"),
])
async def test_programs_keep_json_404s(moers: City, path: str, accept: str) -> None:
    response = await moers.client.get(path, headers={"Accept": accept})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json") and "error" in response.json()


async def test_unknown_path_posted_by_a_browser_stays_a_plain_404(moers: City) -> None:
    response = await moers.client.post("/gibt-es-nicht", headers={"Accept": BROWSER}, data={"x": "1"})
    assert response.status_code in (404, 405) and response.headers["content-type"].startswith("application/json")
