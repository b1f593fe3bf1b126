"""The worker's fast path for plain Creates (fedserver/inbox/fast_create.py) writes exactly the rows the
per-activity path writes: the same Creates are applied both ways, on two cities set up alike, and every
row that storing a post touches is compared (ids translated to what they stand for).

Moers (https://moers.test) receives from felix and greta on remote.test and hans on other.test. Its
residents alice, bob and carla follow some of them, alice keeps a list with felix, and there is one
post to reply to on each side. The inbox items are stored as the inbox route stores them and drained
by the real worker on a real SQLite file.
"""
from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from fedserver.activitypub.convert.note import parse_note
from fedserver.app import create_app
from fedserver.config import load_settings
from fedserver.db import utcnow
from fedserver.inbox import fast_audience, fast_create, queue, remote, worker
from fedserver.local import accounts, actors, lists, remote_statuses, statuses
from fedserver.local.models.interactions import ACCEPTED, PENDING, Follow
from fedserver.local.models.statuses import Tag
from tests.cities import STARTUP_TIMEOUT
from tests.postgres_server import PostgresServer

AS2 = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS2}#Public"
MOERS = "https://moers.test"
FELIX, GRETA, HANS = ("https://remote.test/users/felix", "https://remote.test/users/greta",
                      "https://other.test/users/hans")
NOW = datetime(2025, 5, 4, 12, 0, tzinfo=timezone.utc)
GRETAS_POST = "https://remote.test/users/greta/statuses/1"
GROUP_POST = "https://remote.test/users/greta/statuses/5"  # relayed by our group "nachbarschaft"
GROUP = f"{MOERS}/users/nachbarschaft"


def actor_document(ap_id: str) -> dict[str, Any]:
    origin, name = ap_id.rsplit("/users/", 1)
    return {"@context": [AS2, "https://w3id.org/security/v1"], "id": ap_id, "type": "Person",
            "preferredUsername": name, "inbox": f"{ap_id}/inbox", "followers": f"{ap_id}/followers",
            "endpoints": {"sharedInbox": f"{origin}/inbox"},
            "publicKey": {"id": f"{ap_id}#main-key", "owner": ap_id, "publicKeyPem": "unused"}}


def note(actor: str, number: int, *, to: list[str] | None = None, cc: list[str] | None = None,
         **fields: Any) -> dict[str, Any]:
    ap_id = f"{actor}/statuses/{number}"
    return {"id": ap_id, "type": "Note", "attributedTo": actor, "published": "2025-05-04T11:00:00Z",
            "to": [PUBLIC] if to is None else to, "cc": [f"{actor}/followers"] if cc is None else cc,
            "content": f"<p>Beitrag {number}</p>", "url": f"{actor.replace('/users/', '/@')}/{number}", **fields}


def create(actor: str, obj: dict[str, Any], suffix: str = "activity") -> dict[str, Any]:
    return {"@context": AS2, "id": f"{obj['id']}/{suffix}", "type": "Create", "actor": actor, "object": obj}


def hashtag(name: str) -> dict[str, str]:
    return {"type": "Hashtag", "name": name, "href": f"https://remote.test/tags/{name.lstrip('#').lower()}"}


def mention(href: str) -> dict[str, str]:
    return {"type": "Mention", "href": href, "name": href}


def activities(bobs_post: str) -> list[dict[str, Any]]:
    """Plain Creates of every shape the fast path takes, and in between ones it leaves to the handlers."""
    first = note(FELIX, 1, tag=[hashtag("#Moers"), hashtag("#moers"), hashtag("#Radfahren"), mention(HANS),
                                mention("https://nowhere.test/users/x")],
                 content='<p>Hallo <script>alert(1)</script><a href="javascript:x">Moers</a></p>',
                 conversation="tag:remote.test,2025:objectId=1:objectType=Conversation")
    unlisted = note(FELIX, 2, to=[f"{FELIX}/followers"], cc=[PUBLIC], tag=[hashtag("#Niederrhein")])
    return [
        create(FELIX, first),
        create(FELIX, unlisted),
        create(FELIX, note(FELIX, 3, to=[f"{FELIX}/followers"], cc=[], summary="Vorsicht", sensitive=True,
                           contentMap={"de": "<p>Beitrag 3</p>"})),
        create(FELIX, note(FELIX, 4, inReplyTo=GRETAS_POST, tag=[hashtag("#moers")])),   # bob follows both
        create(FELIX, note(FELIX, 5, inReplyTo=bobs_post, tag=[mention(f"{MOERS}/users/bob")])),  # notifies bob
        create(FELIX, note(FELIX, 6, inReplyTo="https://elsewhere.test/notes/9")),          # parent unknown
        create(FELIX, note(FELIX, 7, inReplyTo=first["id"])),                                # parent in this run
        create(FELIX, {**note(FELIX, 8), "type": "Article", "name": "Stadtrat", "updated": "2025-05-04T11:30:00Z"}),
        create(FELIX, unlisted, suffix="again"),                                             # the same post twice
        create(FELIX, note(FELIX, 9, attachment=[{"type": "Document", "mediaType": "image/png",
                                                  "url": "https://remote.test/media/9.png", "name": "Rhein"}])),
        {"@context": AS2, "id": f"{FELIX}#likes/1", "type": "Like", "actor": FELIX, "object": bobs_post},
        create(FELIX, note(FELIX, 10, tag=[mention(f"{MOERS}/users/alice")])),              # notifies alice
        create(FELIX, note(FELIX, 11, to=[HANS], cc=[], tag=[mention(HANS)])),              # direct
        create(GRETA, note(GRETA, 2, tag=[hashtag("#Radfahren")])),
        create(GRETA, note(GRETA, 3, inReplyTo=f"{FELIX}/statuses/3")),
        create(FELIX, note(GRETA, 4)),                                                       # not felix's post
        create("https://remote.test/users/nobody", note("https://remote.test/users/nobody", 1)),  # unknown actor
        create(HANS, note(HANS, 1, updated="2025-05-04T11:00:00Z", tag=[hashtag("#" + "x" * 300)])),
        create(FELIX, note(FELIX, 12, cc=[f"{FELIX}/followers", GROUP])),               # to our group
        create(FELIX, note(FELIX, 13, inReplyTo=GROUP_POST)),                            # in our group's thread
        create(FELIX, note(FELIX, 14)),
    ]


@asynccontextmanager
async def city(data_dir: Path, database_url: str | None) -> AsyncIterator[tuple[Any, str]]:
    """Moers with its residents, remote actors, follows, a list and two posts; yields (app, bob's post IRI)."""
    settings = load_settings({"domain": "moers.test", "data_dir": str(data_dir), "database_url": database_url},
                             environ={})
    app = create_app(settings, run_workers=False)
    async with LifespanManager(app, startup_timeout=STARTUP_TIMEOUT, shutdown_timeout=STARTUP_TIMEOUT):
        deps = app.state.inbox
        for ap_id in (FELIX, GRETA, HANS):
            await remote.store_actor_document(deps, actor_document(ap_id), now=NOW)
        async with deps.sessions() as session, session.begin():
            people = {name: (await accounts.create(session, deps.urls, username=name, email=f"{name}@moers.example",
                                                   password="correct horse battery", kind="resident", now=NOW))
                      for name in ("alice", "bob", "carla")}
            group = await accounts.create(session, deps.urls, username="nachbarschaft", email="nb@moers.example",
                                          password="correct horse battery", kind="group", now=NOW)
            remote_ids = dict((await session.execute(text("SELECT ap_id, id FROM actors WHERE domain != ''"))).all())
            for follower, target, state in (("alice", FELIX, ACCEPTED), ("bob", FELIX, ACCEPTED),
                                            ("bob", GRETA, ACCEPTED), ("carla", GRETA, ACCEPTED),
                                            ("carla", FELIX, PENDING)):
                session.add(Follow(follower_id=people[follower].actor_id, target_id=remote_ids[target], state=state))
            await session.flush()
            neighbours = await lists.create(session, people["alice"].id, "Nachbarn")
            await lists.add(session, neighbours, people["alice"].actor, [remote_ids[FELIX]])
            session.add(Tag(name="moers", display_name="Moers"))
            greta = await actors.get_by_ap_id(session, GRETA)
            await remote_statuses.store(session, parse_note(note(GRETA, 1)), greta, now=NOW)
            in_group = await remote_statuses.store(session, parse_note(note(GRETA, 5)), greta, now=NOW)
            in_group.audience_id = group.actor_id
            bobs = await statuses.create(session, deps.urls, people["bob"].actor, "Wer kommt mit?", now=NOW)
            bobs_post = bobs.ap_id
        yield app, bobs_post
    await app.state.site.engine.dispose()


async def receive_and_drain(app: Any, items: list[dict[str, Any]]) -> None:
    deps = app.state.inbox
    async with deps.sessions() as session, session.begin():
        for activity in items:
            await queue.store(session, activity_ap_id=activity["id"], actor_ap_id=activity["actor"],
                              activity_type=activity["type"], body=json.dumps(activity), now=NOW)
    assert await worker.drain(deps, NOW + timedelta(seconds=1)) == len(items)


DUMPS = {
    "statuses": "SELECT s.ap_id, s.url, a.ap_id, s.object_type, s.visibility, s.is_local, s.title, s.content_html, "
                "s.source_text, s.spoiler_text, s.is_sensitive, s.language, p.ap_id, s.in_reply_to_ap_id, "
                "s.thread_ap_id, rb.ap_id, au.ap_id, s.published_at, s.edited_at, s.created_at "
                "FROM statuses s JOIN actors a ON a.id = s.author_id LEFT JOIN statuses p ON p.id = s.in_reply_to_id "
                "LEFT JOIN statuses rb ON rb.id = s.reblog_of_id LEFT JOIN actors au ON au.id = s.audience_id",
    "mentions": "SELECT s.ap_id, a.ap_id FROM mentions m JOIN statuses s ON s.id = m.status_id "
                "JOIN actors a ON a.id = m.actor_id",
    "tags": "SELECT name, display_name FROM tags",
    "status_tags": "SELECT s.ap_id, t.name FROM status_tags st JOIN statuses s ON s.id = st.status_id "
                   "JOIN tags t ON t.id = st.tag_id",
    "search": "SELECT s.ap_id, ss.body FROM status_search ss JOIN statuses s ON s.id = ss.rowid",
    "notifications": "SELECT r.ap_id, n.kind, f.ap_id, s.ap_id, n.created_at FROM notifications n "
                     "JOIN actors r ON r.id = n.recipient_id JOIN actors f ON f.id = n.from_actor_id "
                     "LEFT JOIN statuses s ON s.id = n.status_id",
    "media": "SELECT s.ap_id, m.position, m.remote_url, m.kind, m.description FROM media_attachments m "
             "JOIN statuses s ON s.id = m.status_id",
    "likes": "SELECT a.ap_id, s.ap_id FROM likes l JOIN actors a ON a.id = l.actor_id "
             "JOIN statuses s ON s.id = l.status_id",
    "inbox": "SELECT activity_ap_id, state, note, body FROM inbox_items",
}


async def dump(app: Any, bobs_post: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a stored post touches, ids replaced by what they stand for, sorted."""
    bobs_id = bobs_post.rsplit("/", 1)[1]  # local IRIs carry the id, which differs between the cities

    def same_in_both(row: Any) -> tuple[Any, ...]:
        return tuple(value.replace(bobs_id, "<id>") if isinstance(value, str) else value for value in row)

    async with app.state.site.sessions() as session:
        sqlite = session.get_bind().dialect.name == "sqlite"  # only SQLite has the search table
        rows = {name: sorted((same_in_both(row) for row in (await session.execute(text(query))).all()), key=repr)
                for name, query in DUMPS.items() if sqlite or name != "search"}
        actors = {f"user:{id_}": f"user:{ap_id}"
                  for id_, ap_id in (await session.execute(text("SELECT id, ap_id FROM actors"))).all()}
        actors |= {f"user:{id_}:notification": f"user:{ap_id}:notification" for id_, ap_id in
                   (await session.execute(text("SELECT id, ap_id FROM actors"))).all()}
        titles = {f"list:{id_}": f"list:{title}"
                  for id_, title in (await session.execute(text("SELECT id, title FROM lists"))).all()}
        events = (await session.execute(text(
            "SELECT e.stream, e.event, s.ap_id, n.kind || ' ' || ns.ap_id FROM stream_events e "
            "LEFT JOIN statuses s ON s.id = e.object_id AND e.event != 'notification' "
            "LEFT JOIN notifications n ON n.id = e.object_id AND e.event = 'notification' "
            "LEFT JOIN statuses ns ON ns.id = n.status_id"))).all()
    rows["stream_events"] = sorted((same_in_both((actors.get(stream) or titles.get(stream) or stream, *rest))
                                    for stream, *rest in events), key=repr)
    return rows


async def apply_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          break_fast_path: Callable[[], None] | None = None,
                          database_urls: tuple[str | None, str | None] = (None, None),
                          ) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(rows after the per-activity path, rows after the worker as it is, IRIs of the posts stored in runs)."""
    stored_fast: list[str] = []
    store_posts = fast_create.store_posts

    async def spying(session: Any, posts: Any, *, now: datetime) -> None:
        await store_posts(session, posts, now=now)
        stored_fast.extend(post.note.ap_id for post in posts)

    with monkeypatch.context() as patch:
        patch.setattr(fast_create, "plain_post", lambda *args: None)   # every activity through its handler
        async with city(tmp_path / "one-by-one", database_urls[0]) as (app, bobs_post):
            await receive_and_drain(app, activities(bobs_post))
            one_by_one = await dump(app, bobs_post)
    monkeypatch.setattr(fast_create, "store_posts", spying)
    if break_fast_path is not None:
        break_fast_path()
    async with city(tmp_path / "worker", database_urls[1]) as (app, bobs_post):
        await receive_and_drain(app, activities(bobs_post))
        batched = await dump(app, bobs_post)
    return one_by_one, batched, stored_fast


async def test_fast_path_writes_the_rows_the_handlers_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one_by_one, batched, stored_fast = await apply_both_ways(tmp_path, monkeypatch)

    # The plain ones went the fast way, in runs broken by what it leaves to the handlers.
    assert stored_fast == [f"{FELIX}/statuses/{n}" for n in (1, 2, 3, 4)] + [f"{FELIX}/statuses/{n}" for n in (6, 7)] \
        + [f"{FELIX}/statuses/{n}" for n in (8, 2)] + [f"{GRETA}/statuses/2", f"{GRETA}/statuses/3"] \
        + [f"{FELIX}/statuses/14"]
    for table, rows in one_by_one.items():
        assert batched[table] == rows, table
    # And the comparison compares something: the rows the handlers wrote are there.
    assert ("user:https://moers.test/users/bob", "update", f"{FELIX}/statuses/4", None) in one_by_one["stream_events"]
    assert ("user:https://moers.test/users/alice", "update", f"{FELIX}/statuses/4", None) \
        not in one_by_one["stream_events"]
    assert ("list:Nachbarn", "update", f"{FELIX}/statuses/1", None) in one_by_one["stream_events"]
    assert ("hashtag:radfahren", "update", f"{GRETA}/statuses/2", None) in one_by_one["stream_events"]
    assert [row[:2] for row in one_by_one["notifications"]] == [("https://moers.test/users/alice", "mention"),
                                                                ("https://moers.test/users/bob", "favourite"),
                                                                ("https://moers.test/users/bob", "mention")]
    assert {row[1] for row in one_by_one["inbox"]} == {queue.DONE, queue.SKIPPED}
    assert len(one_by_one["statuses"]) == 20


async def test_failed_run_is_applied_one_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def failing(*args: Any) -> None:
        raise RuntimeError("the stream table is gone")

    one_by_one, batched, stored_fast = await apply_both_ways(
        tmp_path, monkeypatch, lambda: monkeypatch.setattr(fast_audience, "announce_created", failing))

    assert stored_fast == []  # every run was rolled back to its savepoint ...
    for table, rows in one_by_one.items():
        assert batched[table] == rows, table  # ... and then applied by the handlers, nothing twice


@pytest.mark.postgres
async def test_fast_path_writes_the_rows_the_handlers_write_on_postgresql(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_server: PostgresServer) -> None:
    names = [postgres_server.create_database() for _ in range(2)]
    try:
        one_by_one, batched, stored_fast = await apply_both_ways(
            tmp_path, monkeypatch, database_urls=(postgres_server.url(names[0]), postgres_server.url(names[1])))
    finally:
        for name in names:
            postgres_server.drop_database(name)
    assert len(stored_fast) == 11
    for table, rows in one_by_one.items():
        assert batched[table] == rows, table
