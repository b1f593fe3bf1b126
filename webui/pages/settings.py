"""Settings: the profile (name, bio, avatar, header, locked), language, password, downloading one's data,
and deleting the account after a clear confirmation step."""
from __future__ import annotations

import json
import logging
import re
from html import unescape

import anyio
from starlette.responses import Response
from starlette.routing import Route

from fedserver.local import account_deletion, account_export, avatars, passwords, password_changes, profiles
from fedserver.local import web_sessions
from fedserver.local.errors import Invalid
from webui import i18n, messages
from webui.page import Page, page

log = logging.getLogger(__name__)


def plain_bio(html: str) -> str:
    """The bio as its owner typed it, for the edit form (paragraphs and line breaks kept)."""
    text = re.sub(r"<br\s*/?>", "\n", html or "")
    text = re.sub(r"</p>\s*<p>", "\n\n", text)
    return unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _settings(current: Page, status_code: int = 200, **context: object) -> Response:
    actor = current.me.actor
    return current.render("settings.html", status_code, actor=actor, bio=plain_bio(actor.summary_html),
                          languages=i18n.LANGUAGE_NAMES, **context)


@page(login=True)
async def settings_page(current: Page) -> Response:
    return _settings(current, saved=current.request.query_params.get("saved", ""))


@page(login=True)
async def save_profile(current: Page) -> Response:
    """Change the profile; peers learn of it by Update. Replaced pictures leave the disk once committed."""
    actor, media_dir = current.me.actor, current.site.settings.media_dir
    replaced = {"avatar": avatars.path_of(current.site.urls, actor.icon_url),
                "header": avatars.path_of(current.site.urls, actor.image_url)}
    stored: dict[str, str | None] = {"avatar": None, "header": None}
    committed = False
    try:
        for kind in (avatars.AVATAR, avatars.HEADER):
            upload = current.file(kind.field)
            if upload is not None:
                data = await upload.read(avatars.MAX_BYTES + 1)
                stored[kind.field] = await anyio.to_thread.run_sync(avatars.store, media_dir, data, kind)
        await profiles.update(
            current.session, current.site.urls, actor, now=current.now, display_name=current.field("display_name"),
            note=current.field("note"), manually_approves_followers=current.field("locked") == "yes",
            icon_url=current.site.urls.media(stored["avatar"]) if stored["avatar"] else None,
            image_url=current.site.urls.media(stored["header"]) if stored["header"] else None)
        await current.session.commit()
        committed = True
    finally:
        if not committed:  # the rows stay as they were: so must the disk
            avatars.remove(media_dir, [path for path in stored.values() if path])
    avatars.remove(media_dir, [old for kind, old in replaced.items() if old and stored[kind]])
    return current.redirect("/settings?saved=profile")


@page(login=True)
async def change_password(current: Page) -> Response:
    """A new password signs out every browser and app; this browser gets a fresh session at once."""
    new = current.field("password")
    if new != current.field("password_confirmation"):
        return _settings(current, 422, password_error=current.gettext("The two new passwords differ."))
    try:
        await password_changes.change_password(current.session, current.me, current=current.field("current_password"),
                                               new=new)
    except Invalid as exc:
        return _settings(current, 422, password_error=messages.translated(current, exc))
    current.sign_in(await web_sessions.open_session(current.session, current.me, now=current.now))
    return current.redirect("/settings?saved=password")


@page(login=True)
async def export(current: Page) -> Response:
    """Download my data: a JSON file of the profile, posts, follows, likes and bookmarks."""
    document = await account_export.export(current.session, current.site.urls, current.me, now=current.now)
    name = f"{current.me.actor.username}-{current.now:%Y-%m-%d}.json"
    return Response(json.dumps(document, ensure_ascii=False, indent=1), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@page(login=True)
async def delete_form(current: Page) -> Response:
    return current.render("delete_account.html", username=current.me.actor.username)


@page(login=True)
async def delete_account(current: Page) -> Response:
    """Delete the account for good, once the resident has typed their username and password."""
    account = current.me
    username = account.actor.username
    if current.field("confirm_username").strip().lower() != username.lower() or not passwords.verify_password(
            account.password_hash, current.field("password")):
        return current.render("delete_account.html", 422, username=username, error=current.gettext(
            "The username or password does not match. Your account has not been deleted."))
    deletion = await account_deletion.delete_account(current.session, current.site.urls, account, current.now)
    await current.session.commit()
    # Profile pictures go only after the commit: had it failed, the account would still show them.
    avatars.remove(current.site.settings.media_dir, deletion.files)
    log.info("account %s deleted in the web UI; Delete queued to %d inboxes", deletion.actor_ap_id,
             len(deletion.inbox_urls))
    current.account, current.viewer = None, None
    current.sign_out()
    return current.render("account_deleted.html")


ROUTES = [
    Route("/settings", settings_page),
    Route("/settings/profile", save_profile, methods=["POST"]),
    Route("/settings/password", change_password, methods=["POST"]),
    Route("/settings/export", export),
    Route("/settings/delete", delete_form, methods=["GET"]),
    Route("/settings/delete", delete_account, methods=["POST"]),
]
