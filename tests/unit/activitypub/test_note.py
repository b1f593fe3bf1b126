"""convert/note: Mastodon's Note shape out, every server's posts in."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from fedserver.activitypub import vocab
from fedserver.activitypub.convert.note import parse_note, render_note
from fedserver.activitypub.errors import MalformedObject
from fedserver.activitypub.shapes import Attachment, Hashtag, Mention, Note

FIXTURES = Path(__file__).parents[2] / "fixtures"
ALICE = "https://moers.test/users/alice"
BOB = "https://solingen.test/users/bob"
UTC = timezone.utc


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def note(**changes: Any) -> Note:
    fields: dict[str, Any] = dict(
        ap_id=f"{ALICE}/statuses/1", attributed_to=ALICE, content_html="<p>Hallo @bob #moers</p>",
        published=datetime(2026, 11, 25, 14, 28, 40, tzinfo=UTC), url="https://moers.test/@alice/1",
        to=(vocab.PUBLIC,), cc=(f"{ALICE}/followers", BOB), in_reply_to=f"{BOB}/statuses/9",
        conversation="tag:moers.test,2026-11-25:objectId=1:objectType=Conversation",
        summary="Wetter", sensitive=True, language="de",
        updated=datetime(2026, 11, 25, 15, 0, tzinfo=UTC),
        tags=(Hashtag(name="#moers", href="https://moers.test/tags/moers"),),
        mentions=(Mention(name="@bob@solingen.test", href=BOB),),
        attachments=(Attachment(url="https://moers.test/m/1.jpg", media_type="image/jpeg", name="Rathaus",
                                blurhash="LEHV6nWB2yk8", width=640, height=480),),
        replies=f"{ALICE}/statuses/1/replies",
    )
    fields.update(changes)
    return Note(**fields)


def test_render_note_in_mastodon_shape() -> None:
    doc = render_note(note())
    assert doc["@context"][0] == vocab.AS_CONTEXT
    assert doc["@context"][1]["sensitive"] == "as:sensitive"
    assert doc["@context"][1]["Hashtag"] == "as:Hashtag"
    assert doc["contentMap"] == {"de": "<p>Hallo @bob #moers</p>"}
    assert doc["tag"] == [{"type": "Mention", "href": BOB, "name": "@bob@solingen.test"},
                          {"type": "Hashtag", "href": "https://moers.test/tags/moers", "name": "#moers"}]
    assert doc["attachment"][0] == {"type": "Document", "mediaType": "image/jpeg", "url": "https://moers.test/m/1.jpg",
                                    "name": "Rathaus", "blurhash": "LEHV6nWB2yk8", "width": 640, "height": 480}
    assert doc["published"] == "2026-11-25T14:28:40Z"


def test_render_note_without_context_for_embedding() -> None:
    assert "@context" not in render_note(note(), context=False)


def test_render_note_leaves_out_none() -> None:
    doc = render_note(Note(ap_id="https://moers.test/n/1", attributed_to=ALICE, content_html="x",
                           published=datetime(2026, 1, 1, tzinfo=UTC)))
    assert "summary" not in doc and "inReplyTo" not in doc and "contentMap" not in doc
    assert doc["sensitive"] is False and doc["attachment"] == [] and doc["tag"] == []


@pytest.mark.parametrize("post", [
    note(), note(type="Article", name="Stadtrat", language=None, summary=None, in_reply_to=None),
    note(type="Event", audience="https://moers.test/groups/verein", attachments=(), tags=(), mentions=()),
])
def test_render_then_parse_round_trips(post: Note) -> None:
    assert parse_note(render_note(post)) == post


def test_parse_mastodon_note_with_embedded_replies() -> None:
    post = parse_note(fixture("mastodon/note_public.json"))
    assert post.language == "en"
    assert post.replies == "https://mastodon.madrid/users/felix/statuses/107224501937456802/replies"
    assert post.tags == (Hashtag(name="#lemmy", href="https://mastodon.madrid/tags/lemmy"),)
    assert post.attachments[0].width == 1200 and post.attachments[0].blurhash


def test_parse_lemmy_page_with_link_attachment() -> None:
    post = parse_note(fixture("lemmy/page.json"))
    assert post.type == "Page" and post.name == "Post title"
    assert post.attachments == (Attachment(url="https://enterprise.lemmy.ml/pictrs/image/eOtYb9iEiB.png", type="Link"),)
    assert post.conversation == "https://enterprise.lemmy.ml/post/55143/context"


def test_parse_content_map_without_content() -> None:
    doc = render_note(note())
    del doc["content"]
    doc["contentMap"] = {"nl": "<p>Hoi</p>"}
    post = parse_note(doc)
    assert (post.content_html, post.language) == ("<p>Hoi</p>", "nl")


def test_parse_single_tag_and_attachment_objects() -> None:
    doc = render_note(note())
    doc["tag"] = {"type": "Mention", "href": BOB, "name": "@bob@solingen.test"}
    doc["attachment"] = {"type": "Image", "url": "https://moers.test/m/2.png", "mediaType": "image/png"}
    post = parse_note(doc)
    assert post.mentions == (Mention(name="@bob@solingen.test", href=BOB),) and post.tags == ()
    assert post.attachments == (Attachment(url="https://moers.test/m/2.png", media_type="image/png", type="Image"),)


def test_parse_url_as_link_list_prefers_html() -> None:
    doc = render_note(note())
    doc["url"] = [{"type": "Link", "mediaType": "video/mp4", "href": "https://v.test/1.mp4"},
                  {"type": "Link", "mediaType": "text/html", "href": "https://v.test/w/1"}]
    assert parse_note(doc).url == "https://v.test/w/1"


def test_parse_attributed_to_list_takes_the_person_not_the_channel() -> None:
    doc = render_note(note())
    doc["attributedTo"] = [{"type": "Group", "id": "https://v.test/c/kanal"}, {"type": "Person", "id": BOB}]
    assert parse_note(doc).attributed_to == BOB


def test_parse_hashtag_without_hash_or_href() -> None:
    doc = render_note(note())
    doc["tag"] = [{"type": "Hashtag", "name": "moers"}]
    assert parse_note(doc).tags == (Hashtag(name="#moers", href=""),)


@pytest.mark.parametrize("field", ["id", "attributedTo", "published", "type"])
def test_parse_missing_required_field_names_it(field: str) -> None:
    doc = render_note(note())
    del doc[field]
    with pytest.raises(MalformedObject) as excinfo:
        parse_note(doc)
    assert excinfo.value.field == field


def test_parse_garbled_published_names_it() -> None:
    doc = render_note(note())
    doc["published"] = "last tuesday"
    with pytest.raises(MalformedObject, match="^published: "):
        parse_note(doc)


def test_parse_rejects_non_post_type() -> None:
    doc = render_note(note())
    doc["type"] = "Person"
    with pytest.raises(MalformedObject, match="not a post type"):
        parse_note(doc)
