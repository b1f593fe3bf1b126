"""What we emit, compared with tests/golden/*.json (STYLE.md section 7).

Golden files change only in a commit that says why. To rewrite them after a deliberate change:
FEDSERVER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/activitypub/test_golden.py
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from fedserver.activitypub import vocab, webfinger
from fedserver.activitypub.convert.activity import render_activity
from fedserver.activitypub.convert.actor import render_actor
from fedserver.activitypub.convert.collection import render_collection_page
from fedserver.activitypub.convert.note import render_note
from fedserver.activitypub.shapes import (
    Activity, Actor, Attachment, CollectionPage, Hashtag, Image, Mention, Note, PropertyValue, PublicKey,
)

GOLDEN = Path(__file__).parents[2] / "golden"
UTC = timezone.utc
ALICE = "https://moers.test/users/alice"
BOB = "https://solingen.test/users/bob"
# Any real public key serves; this one is GoToSocial's test key (tests/fixtures/gotosocial/actor.json).
PEM = json.loads((Path(__file__).parents[2] / "fixtures/gotosocial/actor.json").read_text())["publicKey"]["publicKeyPem"]


def golden_actor() -> dict[str, Any]:
    return render_actor(Actor(
        ap_id=ALICE, type="Person", preferred_username="alice", inbox=f"{ALICE}/inbox",
        outbox=f"{ALICE}/outbox", followers=f"{ALICE}/followers", following=f"{ALICE}/following",
        featured=f"{ALICE}/collections/featured", shared_inbox="https://moers.test/inbox",
        name="Alice Adler", summary_html="<p>Wohnt in Moers, mag den Schlosspark.</p>",
        url="https://moers.test/@alice", icon=Image(url="https://moers.test/media/avatars/alice.png",
                                                    media_type="image/png"),
        public_key=PublicKey(id=f"{ALICE}#main-key", owner=ALICE, pem=PEM),
        discoverable=True, indexable=False, published=datetime(2026, 11, 1, tzinfo=UTC),
        fields=(PropertyValue(name="Stadtteil", value_html="Meerbeck"),),
    ))


def _note() -> Note:
    return Note(
        ap_id=f"{ALICE}/statuses/115000000000000001", attributed_to=ALICE,
        content_html='<p><span class="h-card"><a href="https://solingen.test/@bob" class="u-url mention">@'
                     '<span>bob</span></a></span> Sommerfest im <a href="https://moers.test/tags/schlosspark" '
                     'class="mention hashtag" rel="tag">#<span>Schlosspark</span></a>!</p>',
        published=datetime(2026, 11, 25, 14, 28, 40, tzinfo=UTC),
        url="https://moers.test/@alice/115000000000000001", to=(vocab.PUBLIC,), cc=(f"{ALICE}/followers", BOB),
        language="de", tags=(Hashtag(name="#schlosspark", href="https://moers.test/tags/schlosspark"),),
        mentions=(Mention(name="@bob@solingen.test", href=BOB),),
        attachments=(Attachment(url="https://moers.test/media/1.jpg", media_type="image/jpeg",
                                name="Bühne im Schlosspark", blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
                                width=1280, height=960),),
        replies=f"{ALICE}/statuses/115000000000000001/replies",
    )


def golden_note() -> dict[str, Any]:
    return render_note(_note())


def golden_outbox_page() -> dict[str, Any]:
    note = _note()
    create = render_activity(Activity(
        ap_id=f"{note.ap_id}/activity", type=vocab.CREATE, actor=ALICE, object=render_note(note),
        to=note.to, cc=note.cc, published=note.published,
    ))
    outbox = f"{ALICE}/outbox"
    return render_collection_page(CollectionPage(
        ap_id=f"{outbox}?page=true", part_of=outbox, items=(create,),
        next=f"{outbox}?page=true&max_id=115000000000000001",
        prev=f"{outbox}?page=true&min_id=115000000000000001",
    ))


def golden_webfinger() -> dict[str, Any]:
    return webfinger.render_jrd("acct:alice@moers.test", ALICE, "https://moers.test/@alice",
                                ["https://moers.test/@alice", ALICE])


CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "actor.json": golden_actor, "note.json": golden_note,
    "outbox_page.json": golden_outbox_page, "webfinger.json": golden_webfinger,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_render_matches_golden_file(name: str) -> None:
    rendered = CASES[name]()
    path = GOLDEN / name
    if os.environ.get("FEDSERVER_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(rendered, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert rendered == json.loads(path.read_text(encoding="utf-8"))
    # Key order is part of the shape we promise (Mastodon's order), not only the values.
    assert list(rendered) == list(json.loads(path.read_text(encoding="utf-8")))
