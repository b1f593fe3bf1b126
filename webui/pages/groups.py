"""Groups (FEP-1b12): the city's groups with a search, founding one, a group's page with its feed, joining and
leaving (also groups on other servers, found as @group@domain), posting into a group, and the admin screen
for settings, join requests, members, bans, removing posts and the list of removed ones."""
from __future__ import annotations

import re

from starlette.responses import Response
from starlette.routing import Route

from fedserver.local import (account_lookup, follows, group_admission, group_directory, group_membership,
                             group_moderation, group_removals, groups, statuses)
from fedserver.local.errors import NotFound
from fedserver.local.models.actors import GROUP, Actor
from fedserver.local.models.statuses import DIRECT, Status
from webui import feeds, relations
from webui.page import Page, PageError, page
from webui.pages.people import resolve_remote
from webui.paging import PAGE_SIZE, Window, links

MEMBERS_PAGE = 40
_POST_NUMBER = re.compile(r"(\d+)/?$")  # a post's id, or the address of its page


def _viewer(current: Page) -> Actor | None:
    return current.account.actor if current.account is not None else None


def _given(current: Page, name: str) -> str | None:
    """A text field of the form; None when the form has no such field (that setting stays as it is)."""
    return current.field(name) if current.form is not None and name in current.form else None


def _change(current: Page) -> groups.SettingsChange:
    """The settings form; its checkboxes send "yes" when ticked and nothing otherwise."""
    return groups.SettingsChange(
        display_name=_given(current, "display_name"), description=_given(current, "description"),
        rules=_given(current, "rules"), topic=_given(current, "topic"), join_mode=_given(current, "join_mode"),
        posting_mode=_given(current, "posting_mode"), is_local_only=current.field("local_only") == "yes",
        is_private=current.field("private") == "yes")


@page()
async def index(current: Page) -> Response:
    """The city's groups, newest first; a search by name or topic, or @group@domain for another server's."""
    text = current.request.query_params.get("q", "").strip()[:200]
    window = Window(max_id=current.query_id("max_id"))
    listed = await group_directory.listed(current.session, text, max_id=window.max_id, limit=PAGE_SIZE)
    viewer = _viewer(current)
    user, domain = account_lookup.split_handle(current.site.urls, text)
    if viewer is not None and domain and "@" in text.lstrip("@"):
        found_there = await resolve_remote(current, user, domain)
        listed = [found_there] if found_there is not None and found_there.kind == GROUP else []
    joined = await group_directory.joined(current.session, viewer) if viewer is not None else []
    states = await relations.follow_states(current.session, viewer.id, [group.id for group in listed]) if viewer else {}
    return current.render("groups.html", q=text, listed=listed, joined=joined, states=states, handle=feeds.handle,
                          paging=links(window, [group.id for group in listed], newer=False))


@page(login=True)
async def found(current: Page) -> Response:
    username = current.field("username").strip().lstrip("@")
    if not username:
        raise PageError(422, current.gettext("That did not work"), current.gettext("Please choose a name for the group."))
    group = await groups.create(current.session, current.site.urls, current.me.actor, username, _change(current),
                                now=current.now)
    return current.redirect(f"/groups/{group.id}")


@page()
async def show(current: Page) -> Response:
    """The group's profile and its feed, oldest news last; a private group's feed only for its members."""
    group = await group_directory.find_any(current.session, current.path_id())
    viewer = _viewer(current)
    local = group_admission.is_local_group(group)
    settings = await groups.settings_of(current.session, group) if local else None
    role = await groups.role_of(current.session, group, viewer) if local and viewer is not None else None
    readable = await group_directory.may_read_all(current.session, group, viewer) or not (settings and settings.is_private)
    window = Window(max_id=current.query_id("max_id"))
    entries = await group_directory.feed(current.session, group, viewer, max_id=window.max_id, limit=PAGE_SIZE)
    posts = await feeds.posts(current.session, current.site.urls, entries, viewer)
    facts = await relations.profile_facts(current.session, group.id, viewer.id if viewer is not None else None)
    return current.render("group.html", group=group, settings=settings, role=role, readable=readable, posts=posts,
                          members=facts.followers, follow_state=facts.follow_state, handle=feeds.handle,
                          paging=links(window, [entry.id for entry in entries], newer=False))


@page(login=True)
async def join(current: Page) -> Response:
    """Join at once (open groups) or ask (approval groups and other servers' groups)."""
    group = await group_directory.find_any(current.session, current.path_id())
    refusal = await group_admission.join_refusal(current.session, current.me.actor, group)
    if refusal is not None:
        raise PageError(403, current.gettext("Not allowed"), current.gettext(
            "You cannot join this group: you are banned from it, or it is open to residents of its city only."))
    await follows.request(current.session, current.site.urls, current.me.actor, group, now=current.now)
    return current.redirect(current.back(f"/groups/{group.id}"))


@page(login=True)
async def leave(current: Page) -> Response:
    group = await group_directory.find_any(current.session, current.path_id())
    await follows.end(current.session, current.site.urls, current.me.actor, group, now=current.now)
    return current.redirect(current.back(f"/groups/{group.id}"))


@page(login=True)
async def post(current: Page) -> Response:
    """Post into the group: the post mentions the group (how every server posts into one); in a private group it
    goes to those mentioned only, so that members see it through the group and nobody else does."""
    group = await group_directory.find_any(current.session, current.path_id())
    text = current.field("status").strip()
    mention = f"@{feeds.handle(group)}"
    if text and not re.search(rf"(?<![\w@]){re.escape(mention)}(?![\w@.-])", text, re.IGNORECASE):
        text = f"{mention} {text}"
    visibility = DIRECT if await group_directory.is_private(current.session, group) else "public"
    await statuses.create(current.session, current.site.urls, current.me.actor, text, visibility=visibility,
                          spoiler_text=current.field("spoiler_text"), language=current.me.locale, now=current.now)
    return current.redirect(f"/groups/{group.id}")


# --- the admin screen (admins and moderators) ----------------------------------------------------------------

async def _moderated(current: Page) -> tuple[Actor, str]:
    """The group in the path and the viewer's role in it; 404 for no group of ours, 403 for a non-moderator."""
    group = await groups.find(current.session, current.path_id())
    return group, await groups.require_moderator(current.session, group, current.me.actor)


async def _account(current: Page, name: str = "account_id") -> Actor:
    return await account_lookup.find_shown(current.session, current.path_id(name))


@page(login=True)
async def admin(current: Page) -> Response:
    group, role = await _moderated(current)
    window = Window(max_id=current.query_id("max_id"), limit=MEMBERS_PAGE)
    members = await group_membership.members(current.session, group, max_id=window.max_id, limit=window.limit)
    waiting = await group_membership.requests(current.session, group, max_id=None, limit=MEMBERS_PAGE)
    staff = dict((actor.id, staff_role) for actor, staff_role in await groups.staff(current.session, group))
    removed = await group_removals.removals(current.session, group, current.me.actor,
                                            max_id=current.query_id("removed_max_id"), limit=MEMBERS_PAGE)
    older_removals = f"?removed_max_id={removed[-1][0].id}" if len(removed) >= MEMBERS_PAGE else None
    return current.render(
        "group_admin.html", group=group, role=role, settings=await groups.settings_of(current.session, group),
        members=[actor for _, actor in members], requests=[actor for _, actor in waiting], staff=staff,
        bans=await group_membership.bans(current.session, group), removed=removed, older_removals=older_removals,
        handle=feeds.handle, paging=links(window, [follow_id for follow_id, _ in members], newer=False))


@page(login=True)
async def save_settings(current: Page) -> Response:
    group = await groups.find(current.session, current.path_id())
    await groups.require_admin(current.session, group, current.me.actor)
    await groups.update(current.session, current.site.urls, group, _change(current), now=current.now)
    return current.redirect(f"/groups/{group.id}/admin?saved=1")


async def _decide(current: Page, accept: bool) -> Response:
    group, _role = await _moderated(current)
    await group_membership.decide(current.session, current.site.urls, group, current.me.actor,
                                  await _account(current), accept=accept, now=current.now)
    return current.redirect(f"/groups/{group.id}/admin")


@page(login=True)
async def approve(current: Page) -> Response:
    return await _decide(current, True)


@page(login=True)
async def reject(current: Page) -> Response:
    return await _decide(current, False)


@page(login=True)
async def ban(current: Page) -> Response:
    group, _role = await _moderated(current)
    await group_membership.ban(current.session, current.site.urls, group, current.me.actor, await _account(current),
                               current.field("reason"), now=current.now)
    return current.redirect(f"/groups/{group.id}/admin")


@page(login=True)
async def lift_ban(current: Page) -> Response:
    group, _role = await _moderated(current)
    await group_membership.unban(current.session, group, current.me.actor, await _account(current))
    return current.redirect(f"/groups/{group.id}/admin")


@page(login=True)
async def remove_post(current: Page) -> Response:
    """Take a post out of the group everywhere; named by the path, or by the admin screen's form (its number or
    the address of its page)."""
    group, _role = await _moderated(current)
    raw = current.request.path_params.get("status_id") or current.field("post").strip()
    number = _POST_NUMBER.search(str(raw))
    status = await current.session.get(Status, int(number[1])) if number else None
    if status is None:
        raise NotFound("no such post")
    await group_moderation.remove_post(current.session, current.site.urls, group, current.me.actor, status,
                                       current.field("reason"), now=current.now)
    return current.redirect(current.back(f"/groups/{group.id}"))


ROUTES = [
    Route("/groups", index, methods=["GET"]),
    Route("/groups", found, methods=["POST"]),
    Route("/groups/{id}", show, methods=["GET"]),
    Route("/groups/{id}/join", join, methods=["POST"]),
    Route("/groups/{id}/leave", leave, methods=["POST"]),
    Route("/groups/{id}/statuses", post, methods=["POST"]),
    Route("/groups/{id}/admin", admin, methods=["GET"]),
    Route("/groups/{id}/settings", save_settings, methods=["POST"]),
    Route("/groups/{id}/requests/{account_id}/approve", approve, methods=["POST"]),
    Route("/groups/{id}/requests/{account_id}/reject", reject, methods=["POST"]),
    Route("/groups/{id}/members/{account_id}/ban", ban, methods=["POST"]),
    Route("/groups/{id}/bans/{account_id}/lift", lift_ban, methods=["POST"]),
    Route("/groups/{id}/posts/remove", remove_post, methods=["POST"]),
    Route("/groups/{id}/posts/{status_id}/remove", remove_post, methods=["POST"]),
]
