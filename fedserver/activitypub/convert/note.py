"""Note (and the other post types) <-> JSON in Mastodon's Note shape.

Shapes: tests/fixtures/{mastodon,misskey,lemmy,mobilizon}/*.json and tests/golden/note.json.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedserver.activitypub import dates, extract, vocab
from fedserver.activitypub.convert.question import parse_poll, render_poll
from fedserver.activitypub.errors import MalformedObject
from fedserver.activitypub.shapes import Attachment, Hashtag, Mention, Note

# The inline terms Mastodon's NoteSerializer uses for what we emit (sensitive, Hashtag,
# blurhash, conversation, votersCount); the context of an embedded Note moves to its activity.
NOTE_CONTEXT: list[Any] = [
    vocab.AS_CONTEXT,
    {
        "ostatus": vocab.OSTATUS,
        "conversation": "ostatus:conversation",
        "sensitive": "as:sensitive",
        "toot": vocab.TOOT,
        "blurhash": "toot:blurhash",
        "votersCount": "toot:votersCount",  # a Question's (render_poll); strict JSON-LD readers drop unknown terms
        "Hashtag": "as:Hashtag",
    },
]


def render_note(note: Note, *, context: bool = True) -> dict[str, Any]:
    """Write a post as Mastodon writes a Note; context=False for embedding in an activity."""
    doc: dict[str, Any] = {
        "@context": NOTE_CONTEXT if context else None,
        "id": note.ap_id, "type": note.type, "name": note.name, "summary": note.summary,
        "inReplyTo": note.in_reply_to, "published": dates.format(note.published),
        "url": note.url, "attributedTo": note.attributed_to,
        "to": list(note.to), "cc": list(note.cc), "audience": note.audience,
        "sensitive": note.sensitive, "conversation": note.conversation,
        "content": note.content_html,
        "contentMap": {note.language: note.content_html} if note.language else None,
        "updated": dates.format(note.updated) if note.updated else None,
        "attachment": [_render_attachment(a) for a in note.attachments],
        "tag": [_render_tag(vocab.MENTION, m.href, m.name) for m in note.mentions]
        + [_render_tag(vocab.HASHTAG, t.href, t.name) for t in note.tags],
        "replies": note.replies,
    }
    if note.poll is not None:
        doc |= render_poll(note.poll)
    return {key: value for key, value in doc.items() if value is not None}


def parse_note(doc: Mapping[str, Any]) -> Note:
    """Read a Note, Article, Page, Question, Event... as a post; raises MalformedObject."""
    ap_id = extract.require_id(doc)
    post_type = extract.type_of(doc)
    if post_type is None:
        raise MalformedObject("type")
    if post_type not in vocab.POST_TYPES:
        raise MalformedObject("type", f"{post_type!r} is not a post type")
    content, language = extract.text_and_language(doc, "content")
    published = dates.parse(doc, "published", required=True)
    mentions, tags = _parse_tags(doc.get("tag"))
    return Note(
        ap_id=ap_id, attributed_to=_author(doc.get("attributedTo")),
        content_html=content or "", published=published, type=post_type,
        url=extract.first_href(doc.get("url")),
        to=extract.iri_list(doc.get("to")), cc=extract.iri_list(doc.get("cc")),
        audience=extract.id_of(doc.get("audience")),
        in_reply_to=extract.id_of(doc.get("inReplyTo")),
        conversation=_conversation(doc),
        name=extract.text_and_language(doc, "name")[0],
        summary=extract.text_and_language(doc, "summary")[0],
        sensitive=doc.get("sensitive") is True, language=language,
        updated=dates.parse(doc, "updated"),
        tags=tags, mentions=mentions, attachments=_parse_attachments(doc.get("attachment")),
        replies=extract.id_of(doc.get("replies")),
        poll=parse_poll(doc) if post_type == vocab.QUESTION else None,
    )


def _author(value: Any) -> str:
    """The posting actor; attributedTo may list several (PeerTube: the account and its channel)."""
    candidates = extract.as_list(value)
    # Prefer a person-like actor over a Group, which is where the post lives, not who wrote it.
    ranked = sorted(
        candidates,
        key=lambda c: isinstance(c, Mapping) and extract.type_of(c) == vocab.GROUP,
    )
    for candidate in ranked:
        author = extract.id_of(candidate)
        if author is not None:
            return author
    raise MalformedObject("attributedTo")


def _conversation(doc: Mapping[str, Any]) -> str | None:
    # Mastodon sends ostatus:conversation; Lemmy and FEP-7888 servers send "context".
    conversation = doc.get("conversation")
    if isinstance(conversation, str) and conversation:
        return conversation
    return extract.id_of(doc.get("context"))


def _render_tag(tag_type: str, href: str, name: str) -> dict[str, str]:
    return {"type": tag_type, "href": href, "name": name}


def _parse_tags(value: Any) -> tuple[tuple[Mention, ...], tuple[Hashtag, ...]]:
    # tag may be one object or a list (GoToSocial sends a single Mention unwrapped).
    mentions: list[Mention] = []
    hashtags: list[Hashtag] = []
    for item in extract.as_list(value):
        if not isinstance(item, Mapping):
            continue
        tag_type, href, name = extract.type_of(item), extract.id_of(item.get("href")), item.get("name")
        if tag_type == vocab.MENTION and href is not None:
            mentions.append(Mention(name=name if isinstance(name, str) else href, href=href))
        elif tag_type == vocab.HASHTAG and isinstance(name, str) and name.strip("#"):
            # Some servers leave out href; the name alone still makes the hashtag.
            hashtags.append(Hashtag(name=f"#{name.lstrip('#')}", href=href or ""))
    return tuple(mentions), tuple(hashtags)


def _render_attachment(attachment: Attachment) -> dict[str, Any]:
    doc = {
        "type": attachment.type, "mediaType": attachment.media_type, "url": attachment.url,
        "name": attachment.name, "blurhash": attachment.blurhash,
        "width": attachment.width, "height": attachment.height,
    }
    return {key: value for key, value in doc.items() if value is not None}


def _parse_attachments(value: Any) -> tuple[Attachment, ...]:
    attachments = []
    for item in extract.as_list(value):
        if isinstance(item, str):  # a bare IRI (Activity Vocabulary allows Link-or-IRI)
            attachments.append(Attachment(url=item, type=vocab.LINK))
            continue
        if not isinstance(item, Mapping):
            continue
        # Mastodon puts the file in url; Lemmy's Link attachments use href (fixtures/lemmy).
        url = extract.first_href(item.get("url")) or extract.id_of(item.get("href"))
        if url is None:
            continue
        attachments.append(Attachment(
            url=url, media_type=_text(item, "mediaType"), name=_text(item, "name"),
            blurhash=_text(item, "blurhash"), width=_size(item, "width"),
            height=_size(item, "height"),
            type=extract.type_of(item) or vocab.DOCUMENT,
        ))
    return tuple(attachments)


def _text(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) else None


def _size(item: Mapping[str, Any], key: str) -> int | None:
    value = item.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
