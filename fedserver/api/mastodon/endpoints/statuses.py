"""Statuses endpoints (docs.joinmastodon.org/methods/statuses): post, read, edit, delete, thread context.

What one does to a status (boost, favourite, bookmark, pin, mute) lives in status_actions.py.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from starlette.routing import Route

from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.api.mastodon.entities.account import render_account
from fedserver.api.mastodon.entities.filter import is_hidden
from fedserver.api.mastodon.entities.scheduled_status import render_scheduled_status
from fedserver.api.mastodon.entities.status import render_statuses, timestamp
from fedserver.ids import InvalidId, parse_id
from fedserver.local import attachments, boosts, idempotency, polls, preferences, scheduled_statuses, statuses, threads
from fedserver.local.errors import Invalid
from fedserver.local.models.actors import Actor
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import Status, StatusEdit
from fedserver.local.visibility import can_see

MAX_IDS = 20  # GET /api/v1/statuses?id[]= (Mastodon: DEFAULT_STATUSES_LIMIT)
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
NOT_FOUND = "Record not found"


def viewer_of(call: Call) -> Actor | None:
    return call.account.actor if call.account is not None else None


async def visible_status(call: Call, *, original: bool = False) -> Status:
    """The status in the path if the caller may see it (404 otherwise, never 403); original=True
    follows a boost to the boosted post."""
    status = await call.session.get(Status, call.path_id())
    if status is None or not await can_see(call.session, viewer_of(call), status):
        raise ApiError(404, NOT_FOUND)
    if original and status.reblog_of_id is not None:
        boosted = await call.session.get(Status, status.reblog_of_id)
        assert boosted is not None  # can_see has just checked it
        return boosted
    return status


async def render(call: Call, status: Status) -> dict[str, Any]:
    """One status entity as the caller sees it."""
    account_id = call.account.id if call.account is not None else None
    return (await render_statuses(call.session, call.site.urls, [status], viewer_of(call), account_id))[0]


@endpoint(scope="write:statuses", user=True, write=True)
async def create(call: Call) -> dict[str, Any]:
    """Post a status, or keep it for later when scheduled_at is given (answered with a ScheduledStatus);
    the same Idempotency-Key within an hour returns the first status again. What the client leaves out
    comes from the account's posting defaults (source[privacy], source[sensitive], source[language])."""
    key = (call.request.headers.get("idempotency-key") or "").strip()
    scheduled_at = _scheduled_at(call)
    if scheduled_at is not None:
        return await _schedule(call, scheduled_at, key)
    if key and (earlier := await idempotency.earlier(call.session, call.me.id, key, now=call.now)) is not None:
        return await render(call, earlier)
    text, spoiler = _text_and_spoiler(call)
    actor = call.me.actor
    status = await statuses.create(
        call.session, call.site.urls, actor, text, visibility=call.text("visibility") or call.me.default_visibility,
        spoiler_text=spoiler, is_sensitive=call.flag("sensitive", call.me.default_sensitive),
        language=_language(call) or preferences.posting_language(call.me),
        in_reply_to=await _reply_target(call), media=await _media(call, actor, None), poll=poll_draft(call),
        now=call.now)
    if key:
        await idempotency.remember(call.session, call.me.id, key, now=call.now, status_id=status.id)
    return await render(call, status)


def _text_and_spoiler(call: Call) -> tuple[str, str]:
    text, spoiler = call.text("status") or "", call.text("spoiler_text") or ""
    if not text.strip() and spoiler.strip():  # Mastodon posts a lone content warning as the text
        text, spoiler = spoiler, ""
    return text, spoiler


def _scheduled_at(call: Call) -> datetime | None:
    raw = call.text("scheduled_at")
    return scheduled_statuses.parse_time(raw) if raw is not None and raw.strip() else None


async def _schedule(call: Call, scheduled_at: datetime, key: str) -> dict[str, Any]:
    """Keep the post for later; a retry with the same Idempotency-Key gets the first ScheduledStatus back."""
    if key and (earlier := await idempotency.earlier_scheduled(call.session, call.me.id, key,
                                                               now=call.now)) is not None:
        held = await scheduled_statuses.media_of(call.session, [earlier.id])
        return render_scheduled_status(call.site.urls, earlier, held.get(earlier.id, []))
    text, spoiler = _text_and_spoiler(call)
    draft = scheduled_statuses.Draft(
        text=text, visibility=call.text("visibility") or call.me.default_visibility, spoiler_text=spoiler,
        is_sensitive=call.flag("sensitive", call.me.default_sensitive), language=_language(call),
        poll=poll_draft(call), application_id=call.token.app_id if call.token is not None else None)
    in_reply_to = await _reply_target(call)
    if in_reply_to is not None:
        draft = replace(draft, in_reply_to_id=in_reply_to.id)
    media = await _media(call, call.me.actor, None)
    row = await scheduled_statuses.schedule(call.session, call.me, draft, scheduled_at=scheduled_at, media=media,
                                            in_reply_to=in_reply_to, now=call.now)
    if key:
        await idempotency.remember(call.session, call.me.id, key, now=call.now, scheduled_status_id=row.id)
    return render_scheduled_status(call.site.urls, row, media)


async def _reply_target(call: Call) -> Status | None:
    raw = call.text("in_reply_to_id")
    if not raw:
        return None
    try:
        status = await call.session.get(Status, parse_id(raw, "in_reply_to_id"))
    except InvalidId:
        status = None
    if status is None:
        raise ApiError(404, "The post you are trying to reply to does not appear to exist.")
    # statuses.create refuses what the poster may not see; a boost is answered by answering its original.
    return await call.session.get(Status, status.reblog_of_id) if status.reblog_of_id else status


async def _media(call: Call, actor: Actor, status: Status | None) -> list[MediaAttachment]:
    ids = []
    for raw in call.ids("media_ids"):
        try:
            ids.append(parse_id(raw, "media_ids"))
        except InvalidId:
            raise Invalid("media_ids", "ERR_INVALID", f"Media {raw[:40]} not found") from None
    return await attachments.claim(call.session, actor, ids, status=status)


def poll_draft(call: Call) -> polls.PollDraft | None:
    """poll[options][], poll[expires_in], poll[multiple] from a form, or a JSON `poll` object; None without."""
    nested = call.params.get("poll")
    nested = nested if isinstance(nested, dict) else {}
    options = nested.get("options", call.params.get("poll[options]"))
    if options is None and not nested:
        return None
    options = [options] if isinstance(options, str) else options
    if not isinstance(options, list) or not all(isinstance(option, str) for option in options):
        raise Invalid("poll", "ERR_INVALID", "poll options must be a list of texts")
    try:
        expires_in = int(str(nested.get("expires_in")))
    except ValueError:
        raise Invalid("poll", "ERR_INVALID", "poll[expires_in] must be a number of seconds") from None
    multiple = str(nested.get("multiple", "")).strip().lower() in ("true", "1", "on", "yes", "t")
    return polls.PollDraft(tuple(options), expires_in, multiple)


def _language(call: Call) -> str | None:
    """An ISO 639 code; anything else is dropped, as Mastodon drops unknown languages."""
    value = (call.text("language") or "").strip().lower()
    return value if LANGUAGE.match(value) else None


@endpoint(scope="read:statuses", public=True)
async def show(call: Call) -> dict[str, Any]:
    """One status the caller may see."""
    return await render(call, await visible_status(call))


@endpoint(scope="read:statuses", public=True)
async def index(call: Call) -> list[dict[str, Any]]:
    """Several statuses by id[]; those the caller may not see (or that do not exist) are left out."""
    raw = list(dict.fromkeys(call.ids("id")))
    if len(raw) > MAX_IDS:
        raise ApiError(422, f"Validation failed: at most {MAX_IDS} ids at once")
    ids = []
    for item in raw:
        try:
            ids.append(parse_id(item, "id"))
        except InvalidId:
            continue  # Mastodon reads a non-number as 0, which matches nothing
    shown = threads.shown_to(viewer_of(call), call.now)
    found = {s.id: s for s in (await call.session.scalars(select(Status).where(Status.id.in_(ids), shown))).all()}
    originals = [s.reblog_of_id for s in found.values() if s.reblog_of_id]
    visible = set((await call.session.scalars(select(Status.id).where(Status.id.in_(originals), shown))).all())
    kept = [found[i] for i in ids if i in found and (found[i].reblog_of_id is None or found[i].reblog_of_id in visible)]
    account_id = call.account.id if call.account is not None else None
    return await render_statuses(call.session, call.site.urls, kept, viewer_of(call), account_id)


async def _own(call: Call) -> tuple[Status, Actor]:
    status = await call.session.get(Status, call.path_id())
    if status is None or status.author_id != call.me.actor.id:
        raise ApiError(404, NOT_FOUND)
    return status, call.me.actor


@endpoint(scope="write:statuses", user=True, write=True)
async def destroy(call: Call) -> dict[str, Any]:
    """Delete an own status for good; the answer carries `text` (the source) for redrafting, and the
    media stay as unattached uploads for the redraft unless delete_media=true."""
    status, author = await _own(call)
    entity = await render(call, status)
    entity.pop("content", None)  # Mastodon's source_requested serialisation: text instead of content
    entity["text"] = status.source_text or ""
    if status.reblog_of_id is not None:  # deleting one's boost is undoing it
        boosted = await call.session.get(Status, status.reblog_of_id)
        assert boosted is not None
        await boosts.unboost(call.session, call.site.urls, author, boosted, now=call.now)
        return entity
    if not call.flag("delete_media"):
        await attachments.detach_all(call.session, status)
    await statuses.delete(call.session, call.site.urls, status, author, now=call.now)
    return entity


@endpoint(scope="write:statuses", user=True, write=True)
async def update(call: Call) -> dict[str, Any]:
    """Edit an own status; fields left out stay, except media_ids and poll, which are replaced as Mastodon does."""
    status, author = await _own(call)
    if status.reblog_of_id is not None:
        raise ApiError(404, NOT_FOUND)
    text = call.text("status", status.source_text or "") or ""
    spoiler = call.text("spoiler_text", status.spoiler_text) or ""
    sensitive = call.flag("sensitive", status.is_sensitive)
    await statuses.edit(call.session, call.site.urls, status, author, text, spoiler_text=spoiler,
                        is_sensitive=sensitive, language=_language(call), media=await _media(call, author, status),
                        poll=poll_draft(call), now=call.now)
    return await render(call, status)


@endpoint(scope="read:statuses", public=True)
async def history(call: Call) -> list[dict[str, Any]]:
    """Every version of a status, oldest first, the current one last (StatusEdit entities)."""
    status = await visible_status(call)
    edits = (await call.session.scalars(select(StatusEdit).where(StatusEdit.status_id == status.id)
                                        .order_by(StatusEdit.created_at, StatusEdit.id))).all()
    author = await call.session.get(Actor, status.author_id)
    assert author is not None
    account = await render_account(call.session, call.site.urls, author)
    current = await render(call, status)
    # Earlier versions keep their text; media and poll options are not versioned, so each shows today's.
    shared = {"account": account, "media_attachments": current["media_attachments"], "emojis": []}
    if current["poll"] is not None:
        shared["poll"] = {"options": [{"title": option["title"]} for option in current["poll"]["options"]]}
    versions = [{"content": edit.content_html, "spoiler_text": edit.spoiler_text, "sensitive": edit.is_sensitive,
                 "created_at": timestamp(edit.created_at), **shared} for edit in edits]
    versions.append({"content": status.content_html, "spoiler_text": status.spoiler_text,
                     "sensitive": status.is_sensitive,
                     "created_at": timestamp(status.edited_at or status.published_at), **shared})
    return versions


@endpoint(scope="read:statuses", user=True)
async def source(call: Call) -> dict[str, Any]:
    """What the author typed, for the edit form (StatusSource)."""
    status, _author = await _own(call)
    return {"id": str(status.id), "text": status.source_text or "", "spoiler_text": status.spoiler_text}


@endpoint(scope="read:statuses", public=True)
async def context(call: Call) -> dict[str, Any]:
    """The posts above and below in thread order, as far as the caller may see them."""
    status = await visible_status(call, original=True)
    viewer = viewer_of(call)
    anonymous = viewer is None
    above = await threads.ancestors(call.session, status, viewer, now=call.now,
                                    limit=threads.ANONYMOUS_ANCESTORS if anonymous else threads.LIMIT)
    below = await threads.descendants(
        call.session, status, viewer, now=call.now,
        limit=threads.ANONYMOUS_DESCENDANTS if anonymous else threads.LIMIT,
        depth=threads.ANONYMOUS_DEPTH if anonymous else threads.LIMIT)
    account_id = call.account.id if call.account is not None else None
    rendered = await render_statuses(call.session, call.site.urls, [*above, *below], viewer, account_id,
                                     filter_context="thread")
    return {"ancestors": [e for e in rendered[:len(above)] if not is_hidden(e)],
            "descendants": [e for e in rendered[len(above):] if not is_hidden(e)]}


ROUTES = [
    Route("/api/v1/statuses", create, methods=["POST"]),
    Route("/api/v1/statuses", index, methods=["GET"]),
    Route("/api/v1/statuses/{id}", show, methods=["GET"]),
    Route("/api/v1/statuses/{id}", destroy, methods=["DELETE"]),
    Route("/api/v1/statuses/{id}", update, methods=["PUT"]),
    Route("/api/v1/statuses/{id}/history", history, methods=["GET"]),
    Route("/api/v1/statuses/{id}/source", source, methods=["GET"]),
    Route("/api/v1/statuses/{id}/context", context, methods=["GET"]),
]
