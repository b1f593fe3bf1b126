"""Groups in the web UI: the groups page with its search, founding a group, its page and feed, joining and
leaving (also a group of another city, found as @group@domain), posting into it, and the admin screen
(requests, members, bans, removing posts, settings), with CSRF and role checks."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from fedserver.local.models.accounts import Account
from fedserver.local.models.actors import GROUP, Actor
from fedserver.local.models.groups import GroupBan, GroupSettings
from fedserver.local.models.interactions import ACCEPTED, Follow
from fedserver.local.models.statuses import Status
from tests.cities import City
from tests.federation.cities import federation, local_actor
from tests.webui.browser import Visitor


async def _found(visitor: Visitor, username: str, **fields: str) -> int:
    """Found a group through the form; its id from the page the browser is sent to."""
    response = await visitor.submit("/groups", "/groups", {"username": username, **fields})
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/groups/(\d+)", response.headers["location"])
    assert found, response.headers["location"]
    return int(found[1])


async def _follow_state(city: City, username: str, group_id: int) -> str | None:
    actor = await local_actor(city, username)
    async with city.site.sessions() as session:
        return await session.scalar(select(Follow.state).where(Follow.follower_id == actor.id,
                                                               Follow.target_id == group_id))


async def _status(city: City, text: str) -> Status | None:
    async with city.site.sessions() as session:
        return (await session.scalars(select(Status).where(Status.source_text.contains(text),
                                                           Status.reblog_of_id.is_(None)))).first()


async def test_groups_page_lists_the_city_groups_newest_first_with_a_search(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        garden = await _found(alice, "gartenfreunde", display_name="Gartenfreunde", topic="garten")
        chess = await _found(alice, "schach", display_name="Schachclub")
        await _found(alice, "geheim", display_name="Geheimbund", private="yes")
    async with Visitor(moers) as visitor:
        listing = await visitor.get("/groups")
        searched = await visitor.get("/groups?q=garten")
        nothing = await visitor.get("/groups?q=zzz")
        group_page = await visitor.get(f"/groups/{garden}")
    assert listing.status_code == 200 and 'href="/groups"' in listing.text and "Gruppen" in listing.text
    assert listing.text.index("Schachclub") < listing.text.index("Gartenfreunde")  # newest first
    assert "Geheimbund" not in listing.text  # private groups are not listed
    assert "Gruppe gründen" not in listing.text  # visitors cannot found one
    assert "Gartenfreunde" in searched.text and "Schachclub" not in searched.text
    assert nothing.status_code == 200 and "Keine Gruppe gefunden" in nothing.text
    assert group_page.status_code == 200 and "@gartenfreunde@moers.test" in group_page.text
    assert "Anmelden, um beizutreten" in group_page.text and chess != garden


async def test_a_resident_founds_a_group_a_neighbour_joins_and_posts_into_it(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    async with Visitor(moers) as alice, Visitor(moers) as bob:
        await alice.log_in("alice")
        await bob.log_in("bob")
        group_id = await _found(alice, "treff", display_name="Nachbarschaftstreff", rules="Freundlich bleiben")
        before = await bob.get(f"/groups/{group_id}")
        joined = await bob.submit(f"/groups/{group_id}", f"/groups/{group_id}/join", {"next": f"/groups/{group_id}"})
        posted = await bob.submit(f"/groups/{group_id}", f"/groups/{group_id}/statuses",
                                  {"status": "Flohmarkt am Samstag!"})
        mine = await bob.get("/groups")
    async with Visitor(moers) as visitor:
        feed = await visitor.get(f"/groups/{group_id}")
    assert "Beitreten" in before.text and "An die Gruppe schreiben" not in before.text
    assert joined.status_code == 303 and await _follow_state(moers, "bob", group_id) == ACCEPTED
    assert posted.status_code == 303 and posted.headers["location"] == f"/groups/{group_id}"
    status = await _status(moers, "Flohmarkt am Samstag!")
    assert status is not None and status.audience_id == group_id and status.source_text.startswith("@treff ")
    assert feed.status_code == 200 and "Flohmarkt am Samstag!" in feed.text and "Freundlich bleiben" in feed.text
    assert "Nachbarschaftstreff" in mine.text and "Deine Gruppen" in mine.text


async def test_forms_without_the_csrf_token_are_refused(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        group_id = await _found(alice, "treff")
        founding = await alice.client.post("/groups", data={"username": "ohne"})
        posting = await alice.client.post(f"/groups/{group_id}/statuses", data={"status": "ohne Token"})
    assert founding.status_code == 403 and posting.status_code == 403 and "abgelaufen" in founding.text
    async with moers.site.sessions() as session:
        assert await session.scalar(select(Actor.id).where(Actor.username_key == "ohne")) is None
    assert await _status(moers, "ohne Token") is None


async def test_bad_input_and_unknown_groups_get_clear_answers(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        group_id = await _found(alice, "treff")
        nameless = await alice.submit("/groups", "/groups", {"username": ""})
        bad_name = await alice.submit("/groups", "/groups", {"username": "nicht gültig!"})
        taken = await alice.submit("/groups", "/groups", {"username": "treff"})
        bad_mode = await alice.submit("/groups", "/groups", {"username": "neu", "join_mode": "sometimes"})
        unknown = await alice.get("/groups/123456789")
        not_an_id = await alice.get("/groups/abc")
        person = await alice.get(f"/groups/{(await local_actor(moers, 'alice')).id}")
    async with Visitor(moers) as visitor:
        founding = await visitor.submit("/groups", "/groups", {"username": "anonym"})
        joining = await visitor.submit(f"/groups/{group_id}", f"/groups/{group_id}/join")
    assert nameless.status_code == 422 and "Namen für die Gruppe" in nameless.text
    assert bad_name.status_code == 422 and "1 bis 30 Zeichen" in bad_name.text
    assert taken.status_code == 422 and "bereits vergeben" in taken.text
    assert bad_mode.status_code == 422 and "Bitte wähle, wer beitreten darf." in bad_mode.text
    assert unknown.status_code == 404 and not_an_id.status_code == 404 and person.status_code == 404
    assert founding.status_code == 303 and founding.headers["location"].startswith("/login")
    assert joining.status_code == 303 and joining.headers["location"].startswith("/login")


async def test_approval_group_admin_screen_lets_in_turns_away_bans_and_lifts_bans(moers: City) -> None:
    for name in ("alice", "bob", "carla"):
        await moers.create_account(name)
    async with Visitor(moers) as alice, Visitor(moers) as bob, Visitor(moers) as carla:
        for visitor, name in ((alice, "alice"), (bob, "bob"), (carla, "carla")):
            await visitor.log_in(name)
        group_id = await _found(alice, "treff", join_mode="approval")
        page = f"/groups/{group_id}"
        await bob.submit(page, f"{page}/join")
        await carla.submit(page, f"{page}/join")
        asked = await bob.get(page)
        screen = await alice.get(f"{page}/admin")
        bob_id, carla_id = (await local_actor(moers, "bob")).id, (await local_actor(moers, "carla")).id
        let_in = await alice.submit(f"{page}/admin", f"{page}/requests/{bob_id}/approve")
        turned_away = await alice.submit(f"{page}/admin", f"{page}/requests/{carla_id}/reject")
        bob_admin = await bob.get(f"{page}/admin")
        bob_bans = await bob.submit(page, f"{page}/members/{carla_id}/ban")
        bob_settings = await bob.submit(page, f"{page}/settings", {"join_mode": "open"})
        members = await alice.get(f"{page}/admin")
        banned = await alice.submit(f"{page}/admin", f"{page}/members/{bob_id}/ban", {"reason": "Werbung"})
        after_ban = await alice.get(f"{page}/admin")
        rejoin = await bob.submit(page, f"{page}/join")
        lifted = await alice.submit(f"{page}/admin", f"{page}/bans/{bob_id}/lift")
        after_lift = await alice.get(f"{page}/admin")
    assert "Beitritt angefragt" in asked.text
    assert screen.status_code == 200 and "@bob" in screen.text and "@carla" in screen.text
    assert let_in.status_code == 303 and turned_away.status_code == 303
    assert await _follow_state(moers, "carla", group_id) is None
    assert bob_admin.status_code == 403 and bob_bans.status_code == 403 and bob_settings.status_code == 403
    assert "Ban" not in members.text.split("Gesperrt")[0].split("@alice")[1][:80]  # admins have no ban button
    assert "@bob" in members.text.split("Gesperrt")[0]
    assert banned.status_code == 303 and await _follow_state(moers, "bob", group_id) is None
    assert "Werbung" in after_ban.text.split("Gesperrt")[1]
    assert rejoin.status_code == 403 and await _follow_state(moers, "bob", group_id) is None
    assert lifted.status_code == 303 and "Niemand ist gesperrt" in after_lift.text
    async with moers.site.sessions() as session:
        assert (await session.scalars(select(GroupBan))).first() is None


async def test_admins_change_the_settings_and_keep_what_the_form_does_not_show(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        group_id = await _found(alice, "treff", description="Für alle in Repelen")
        saved = await alice.submit(f"/groups/{group_id}/admin", f"/groups/{group_id}/settings", {
            "display_name": "Treffpunkt", "topic": "nachbarschaft", "rules": "Keine Werbung",
            "join_mode": "approval", "posting_mode": "moderators", "local_only": "yes"})
        screen = await alice.get(f"/groups/{group_id}/admin?saved=1")
    assert saved.status_code == 303 and "Gespeichert" in screen.text
    async with moers.site.sessions() as session:
        settings = await session.get(GroupSettings, group_id)
        group = await session.get(Actor, group_id)
    assert settings is not None and group is not None
    assert (settings.join_mode, settings.posting_mode, settings.is_local_only, settings.is_private) == (
        "approval", "moderators", True, False)
    assert settings.rules == "Keine Werbung" and group.display_name == "Treffpunkt" and group.topic == "nachbarschaft"
    assert "Repelen" in group.summary_html and group.manually_approves_followers


async def test_a_private_group_feed_is_hidden_from_non_members(moers: City) -> None:
    for name in ("alice", "bob", "carla"):
        await moers.create_account(name)
    async with Visitor(moers) as alice, Visitor(moers) as bob, Visitor(moers) as carla, Visitor(moers) as visitor:
        await alice.log_in("alice")
        await bob.log_in("bob")
        await carla.log_in("carla")
        group_id = await _found(alice, "geheim", private="yes")
        page = f"/groups/{group_id}"
        await bob.submit(page, f"{page}/join")
        await bob.submit(page, f"{page}/statuses", {"status": "Nur für uns"})
        member_view = await alice.get(page)
        outsider_view = await carla.get(page)
        anonymous_view = await visitor.get(page)
    status = await _status(moers, "Nur für uns")
    assert status is not None and status.visibility == "direct" and status.audience_id == group_id
    assert "Nur für uns" in member_view.text
    for view in (outsider_view, anonymous_view):
        assert view.status_code == 200 and "Nur für uns" not in view.text and "nur für ihre Mitglieder" in view.text


async def test_moderators_remove_posts_from_the_feed_and_by_number(moers: City) -> None:
    for name in ("alice", "bob"):
        await moers.create_account(name)
    async with Visitor(moers) as alice, Visitor(moers) as bob:
        await alice.log_in("alice")
        await bob.log_in("bob")
        group_id = await _found(alice, "treff")
        page = f"/groups/{group_id}"
        await bob.submit(page, f"{page}/join")
        await bob.submit(page, f"{page}/statuses", {"status": "Erster Beitrag"})
        await bob.submit(page, f"{page}/statuses", {"status": "Zweiter Beitrag"})
        first, second = await _status(moers, "Erster Beitrag"), await _status(moers, "Zweiter Beitrag")
        assert first is not None and second is not None
        bob_view = await bob.get(page)
        bob_removes = await bob.submit(page, f"{page}/posts/{first.id}/remove")
        alice_view = await alice.get(page)
        removed = await alice.submit(page, f"{page}/posts/{first.id}/remove", {"reason": "Doppelt", "next": page})
        by_number = await alice.submit(f"{page}/admin", f"{page}/posts/remove",
                                       {"post": f"https://moers.test/@bob/{second.id}"})
        garbled = await alice.submit(f"{page}/admin", f"{page}/posts/remove", {"post": "kein Beitrag"})
        after = await alice.get(page)
        admin_screen = await alice.get(f"{page}/admin")
        again = await bob.submit(page, f"{page}/statuses", {"status": "Dritter Beitrag"})
        feed_again = await alice.get(page)
    assert "Aus der Gruppe entfernen" not in bob_view.text and bob_removes.status_code == 403
    assert "Aus der Gruppe entfernen" in alice_view.text
    assert removed.status_code == 303 and by_number.status_code == 303 and garbled.status_code == 404
    assert "Erster Beitrag" not in after.text and "Zweiter Beitrag" not in after.text
    kept = await _status(moers, "Erster Beitrag")  # a resident's own post stays theirs, outside the group
    assert kept is not None and kept.audience_id is None
    removed_list = admin_screen.text[admin_screen.text.index("Entfernte Beiträge"):]
    assert removed_list.index("Zweiter Beitrag") < removed_list.index("Erster Beitrag")  # newest first
    assert "Doppelt" in removed_list and "von @bob ·" in removed_list and "von @alice" in removed_list
    assert again.status_code == 303 and "Dritter Beitrag" in feed_again.text  # a removal is no ban


async def test_members_leave_and_rejoin(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    async with Visitor(moers) as alice, Visitor(moers) as bob:
        await alice.log_in("alice")
        await bob.log_in("bob")
        group_id = await _found(alice, "treff")
        await bob.submit(f"/groups/{group_id}", f"/groups/{group_id}/join")
        member = await bob.get(f"/groups/{group_id}")
        left = await bob.submit(f"/groups/{group_id}", f"/groups/{group_id}/leave")
        outside = await bob.get(f"/groups/{group_id}")
    assert "Du bist Mitglied" in member.text and "1 Mitglieder" not in member.text  # alice and bob
    assert left.status_code == 303 and await _follow_state(moers, "bob", group_id) is None
    assert "Beitreten" in outside.text


async def test_a_group_of_another_city_is_found_by_handle_and_joined(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = fed["moers.test"], fed["solingen.test"]
        await moers.create_account("alice")
        await solingen.create_account("bob")
        async with Visitor(solingen) as bob:
            await bob.log_in("bob")
            await _found(bob, "klingen", display_name="Klingenfreunde")
        async with Visitor(moers) as alice:
            await alice.log_in("alice")
            found = await alice.get("/groups?q=@klingen@solingen.test")
            async with moers.site.sessions() as session:
                group = (await session.scalars(select(Actor).where(Actor.domain == "solingen.test",
                                                                   Actor.kind == GROUP))).one()
            joined = await alice.submit("/groups", f"/groups/{group.id}/join")
            await fed.drain()
            mine = await alice.get("/groups")
            group_page = await alice.get(f"/groups/{group.id}")
            not_a_group = await alice.get("/groups?q=@bob@solingen.test")
    assert found.status_code == 200 and "Klingenfreunde" in found.text and "@klingen@solingen.test" in found.text
    assert joined.status_code == 303 and await _follow_state(moers, "alice", group.id) == ACCEPTED
    assert "Deine Gruppen" in mine.text and "Klingenfreunde" in mine.text
    assert group_page.status_code == 200 and "solingen.test zu Hause" in group_page.text
    assert "Admin" not in group_page.text and "Gruppe verwalten" not in group_page.text
    assert not_a_group.status_code == 200 and "Keine Gruppe gefunden" in not_a_group.text  # a person, no group


async def test_refusals_of_the_group_services_are_shown_in_the_page_language(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    emma_account = await moers.create_account("emma")
    async with moers.site.sessions() as session, session.begin():
        (await session.get(Account, emma_account.id)).locale = "en"  # type: ignore[union-attr]
    async with Visitor(moers) as alice, Visitor(moers) as bob, Visitor(moers) as emma:
        await alice.log_in("alice")
        await bob.log_in("bob")
        await emma.log_in("emma")
        group_id = await _found(alice, "treff")
        german = await bob.get(f"/groups/{group_id}/admin")
        english = await emma.get(f"/groups/{group_id}/admin")
        await alice.submit(f"/groups/{group_id}", f"/groups/{group_id}/join")
        too_long = await alice.submit(f"/groups/{group_id}/admin", f"/groups/{group_id}/settings",
                                      {"topic": "x" * 65})
    assert german.status_code == 403 and "Das dürfen nur die Administration und die Moderation der Gruppe." in german.text
    assert "only the group" not in german.text
    assert english.status_code == 403 and "Only the group&#39;s admins and moderators may do this." in english.text
    assert too_long.status_code == 422 and "Ein Thema hat höchstens 64 Zeichen." in too_long.text
