"""Local models as wire shapes: what our actors and statuses look like on the way out."""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub import addressing
from fedserver.activitypub.shapes import Actor as ActorShape
from fedserver.activitypub.shapes import Attachment, Hashtag, Image, Mention, Note, PropertyValue, PublicKey
from fedserver.local import polls
from fedserver.local.models.actors import GROUP, Actor
from fedserver.local.models.groups import MODERATORS, GroupSettings
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import Mention as MentionRow
from fedserver.local.models.statuses import Status, StatusTag, Tag
from fedserver.local.urls import LocalUrls


async def actor_shape(session: AsyncSession, actor: Actor) -> ActorShape:
    """The actor document's facts for one of our actors."""
    posting_restricted = False
    if actor.kind == GROUP:
        settings = await session.get(GroupSettings, actor.id)
        posting_restricted = settings is not None and settings.posting_mode == MODERATORS
    fields = tuple(PropertyValue(name=f["name"], value_html=f["value_html"]) for f in json.loads(actor.fields_json))
    return ActorShape(
        ap_id=actor.ap_id, type=actor.kind, preferred_username=actor.username, inbox=actor.inbox_url,
        outbox=actor.outbox_url, followers=actor.followers_url, following=actor.following_url,
        featured=actor.featured_url, shared_inbox=actor.shared_inbox_url, name=actor.display_name or None,
        summary_html=actor.summary_html, url=actor.url,  # Mastodon sends "" rather than nothing
        icon=Image(url=actor.icon_url) if actor.icon_url else None,
        image=Image(url=actor.image_url) if actor.image_url else None,
        public_key=PublicKey(id=actor.public_key_id or f"{actor.ap_id}#main-key", owner=actor.ap_id,
                             pem=actor.public_key_pem or "") if actor.public_key_pem else None,
        manually_approves_followers=actor.manually_approves_followers, discoverable=actor.is_discoverable,
        indexable=actor.is_indexable, published=actor.published_at, fields=fields,
        posting_restricted_to_mods=posting_restricted,
    )


async def note_shape(session: AsyncSession, urls: LocalUrls, status: Status, author: Actor) -> Note:
    """The Note (or Article, Event ...) for one of our statuses, with its audience, tags and media."""
    mentioned = (await session.execute(
        select(Actor.ap_id, Actor.username, Actor.domain)
        .join(MentionRow, MentionRow.actor_id == Actor.id).where(MentionRow.status_id == status.id)
    )).all()
    tag_names = (await session.scalars(
        select(Tag.name).join(StatusTag, StatusTag.tag_id == Tag.id).where(StatusTag.status_id == status.id)
    )).all()
    media = (await session.scalars(
        select(MediaAttachment).where(MediaAttachment.status_id == status.id).order_by(MediaAttachment.position)
    )).all()
    to, cc = addressing.address(status.visibility, author.followers_url or "", [row.ap_id for row in mentioned])
    audience = await session.scalar(select(Actor.ap_id).where(Actor.id == status.audience_id)) \
        if status.audience_id is not None else None  # the group it was posted into (FEP-1b12)
    return Note(
        ap_id=status.ap_id, attributed_to=author.ap_id, content_html=status.content_html,
        published=status.published_at, type=status.object_type, url=status.url, to=to, cc=cc, audience=audience,
        in_reply_to=status.in_reply_to_ap_id, conversation=status.thread_ap_id, name=status.title,
        summary=status.spoiler_text or None, sensitive=status.is_sensitive, language=status.language,
        updated=status.edited_at,
        tags=tuple(Hashtag(name=f"#{name}", href=urls.tag(name)) for name in tag_names),
        mentions=tuple(
            Mention(name=f"@{row.username}@{row.domain or urls.domain}", href=row.ap_id) for row in mentioned
        ),
        attachments=tuple(_attachment(urls, item) for item in media),
        replies=f"{status.ap_id}/replies",
        poll=await polls.shape_of(session, status.id) if status.object_type == "Question" else None,
    )


def _attachment(urls: LocalUrls, item: MediaAttachment) -> Attachment:
    url = urls.media(item.file_path) if item.file_path else (item.remote_url or "")
    return Attachment(
        url=url, media_type=item.content_type or None, name=item.description or None,
        blurhash=item.blurhash, width=item.width, height=item.height,
    )
