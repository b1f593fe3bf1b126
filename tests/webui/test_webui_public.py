"""Public pages: landing, local timeline, profiles, status pages with threads, hashtags; CSP and nh3 on every one."""
from __future__ import annotations

from sqlalchemy import update

from fedserver.local.models.statuses import Status
from tests.cities import City
from tests.webui.browser import Visitor


async def test_public_pages_show_public_posts_with_a_strict_csp(moers: City) -> None:
    await moers.create_account("alice", display_name="Alice")
    status = await moers.post("alice", "Hallo #Moers vom Altmarkt")
    await moers.post("alice", "nur für Follower", visibility="private")
    async with Visitor(moers) as visitor:
        for path in ("/", "/local", "/@alice", f"/@alice/{status.id}", "/tags/moers"):
            response = await visitor.get(path)
            assert response.status_code == 200, path
            assert "Altmarkt" in response.text, path
            assert "nur für Follower" not in response.text, path
            csp = response.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert "'unsafe-inline'" not in csp


async def test_landing_page_names_the_city_its_rules_and_sign_up(moers: City) -> None:
    async with Visitor(moers) as visitor:
        page = (await visitor.get("/")).text
    assert "Moers" in page and "Respektvoller Umgang" in page
    assert 'href="/signup"' in page and 'href="/login"' in page


async def test_hidden_and_missing_things_are_404_pages(moers: City) -> None:
    await moers.create_account("alice")
    private = await moers.post("alice", "geheim", visibility="private")
    public = await moers.post("alice", "offen")
    async with Visitor(moers) as visitor:
        for path in ("/@nobody", f"/@alice/{private.id}", f"/@bob/{public.id}", "/@alice/123", "/@alice/abc"):
            response = await visitor.get(path)
            assert response.status_code == 404, path
            assert "Nicht gefunden" in response.text
            assert "content-security-policy" in response.headers
        broken = await visitor.get("/?max_id=zzz")
    assert broken.status_code == 400


async def test_user_html_is_sanitised_on_every_page(moers: City) -> None:
    await moers.create_account("alice", summary_html='<p>Bio<script>alert(1)</script></p>')
    status = await moers.post("alice", "harmlos #moers")
    async with moers.site.sessions() as session, session.begin():
        await session.execute(update(Status).where(Status.id == status.id).values(
            content_html='<p onclick="x()">Text<img src=x onerror=alert(1)><a href="javascript:alert(1)">l</a></p>',
            spoiler_text=""))
    async with Visitor(moers) as visitor:
        for path in ("/", "/@alice", f"/@alice/{status.id}", "/tags/moers"):
            page = (await visitor.get(path)).text
            assert "Text" in page, path
            for bad in ("<script", "onerror", "onclick", "javascript:"):
                assert bad not in page, (path, bad)


async def test_status_page_shows_the_thread(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    first = await moers.post("alice", "Wer kommt zum Fest?")
    reply = await moers.post("bob", "Ich komme!", in_reply_to=first)
    async with Visitor(moers) as visitor:
        page = (await visitor.get(f"/@alice/{first.id}")).text
        above = (await visitor.get(f"/@bob/{reply.id}")).text
    assert "Ich komme!" in page
    assert "Wer kommt zum Fest?" in above


async def test_older_link_pages_the_local_timeline(moers: City) -> None:
    await moers.create_account("alice")
    for number in range(23):
        await moers.post("alice", f"Beitrag Nummer {number:02d}")
    async with Visitor(moers) as visitor:
        first = (await visitor.get("/local")).text
        assert "Beitrag Nummer 22" in first and "Beitrag Nummer 02" not in first
        older = first.split('rel="next" href="')[1].split('"')[0]
        second = (await visitor.get(f"/local{older}")).text
    assert "Beitrag Nummer 02" in second and "Beitrag Nummer 22" not in second
