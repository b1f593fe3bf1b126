"""What we serve has the shape Mastodon serves for the same documents (tests/fixtures/mastodon/)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cities import City

FIXTURES = Path(__file__).parents[2] / "fixtures" / "mastodon"
AP = {"Accept": "application/activity+json"}

# Keys Mastodon sends that we do not (yet), each with the reason.
ACTOR_OMITTED = {
    "featuredTags": "no featured hashtags collection yet",
    "memorial": "no memorial accounts",
    "tag": "no custom emoji",
}
NOTE_OMITTED = {
    "atomUri": "OStatus legacy", "inReplyToAtomUri": "OStatus legacy",
    "likes": "likes collection not served yet", "shares": "shares collection not served yet",
    "inReplyTo": "left out when null", "summary": "left out when null",
}


# Mastodon embeds the replies collection's first page; we link it (AS2 allows either), which
# keeps an outbox page free of one query per post. The link is served (test_replies_collection...).
_AS_IRI = {"replies"}


def _mastodon(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return loaded


def _assert_same_shape(ours: dict[str, Any], theirs: dict[str, Any], omitted: dict[str, str]) -> None:
    missing = set(theirs) - set(ours) - set(omitted)
    assert not missing, f"keys Mastodon sends that we do not: {sorted(missing)}"
    for key in set(ours) & set(theirs) - _AS_IRI:
        if theirs[key] is not None and ours[key] is not None:
            assert type(ours[key]) is type(theirs[key]), (key, ours[key], theirs[key])


async def test_actor_has_mastodons_shape(moers: City) -> None:
    await moers.create_account("alice", display_name="Alice", icon_url="https://moers.test/media/a.png")
    ours = (await moers.client.get("/users/alice", headers=AP)).json()
    _assert_same_shape(ours, _mastodon("actor_person.json"), ACTOR_OMITTED)
    assert set(ours["publicKey"]) == set(_mastodon("actor_person.json")["publicKey"])


async def test_note_has_mastodons_shape(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    status = await moers.post("alice", "Hallo @bob #Moers", language="de")
    ours = (await moers.client.get(status.ap_id, headers=AP)).json()
    _assert_same_shape(ours, _mastodon("note_public.json"), NOTE_OMITTED)
    assert ours["contentMap"] == {"de": ours["content"]}
    assert ours["conversation"] == status.ap_id


async def test_replies_collection_lists_public_replies(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    original = await moers.post("alice", "Frage an alle")
    public = await moers.post("bob", "Antwort", in_reply_to=original)
    await moers.post("bob", "Private Antwort", visibility="private", in_reply_to=original)
    note = (await moers.client.get(original.ap_id, headers=AP)).json()
    collection = (await moers.client.get(note["replies"], headers=AP)).json()
    assert collection["totalItems"] == 1
    page = (await moers.client.get(collection["first"], headers=AP)).json()
    assert page["orderedItems"] == [public.ap_id]
