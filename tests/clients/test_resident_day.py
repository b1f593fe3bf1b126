"""A resident's day across two cities, driven by Mastodon.py against two real `fedserver serve` processes.

The cities run on loopback ports with --http --allow-private-network (tests/e2e/two_cities.py), for
the whole module; each test signs up residents of its own, so the tests do not depend on each
other's order. What a resident does: log in (authorization code through the consent page, or the
password grant), post a picture, follow a neighbour and hear of their follow, mention, favourite and
boost, boost, like and bookmark in return, find a resident of the other city by handle and follow
her, read the home timeline page by page, and stream. Every wait is bounded (WAIT).
"""
from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from mastodon import Mastodon
from mastodon.errors import MastodonNotFoundError
from PIL import Image

from tests.clients.consent import approve_in_the_browser
from tests.clients.listeners import Collector
from tests.e2e.servers import free_port
from tests.e2e.two_cities import PASSWORD, CityDir, Process, create_account, serving

pytestmark = pytest.mark.e2e
WAIT = 30.0  # seconds anything asynchronous may take: a delivery, the inbox worker, a stream event
OUT_OF_BAND = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ["read", "write", "follow", "push"]
T = TypeVar("T")


class City:
    """One running city as the tests use it: its directory, its server process, its API base URL."""

    def __init__(self, directory: CityDir, process: Process) -> None:
        self.directory, self.process = directory, process

    @property
    def base_url(self) -> str:
        return self.directory.base_url

    @property
    def domain(self) -> str:
        return self.directory.domain

    def sign_up(self, username: str) -> Mastodon:
        """A new resident through POST /api/v1/accounts, signed in with the token it returns."""
        api = Mastodon(*self._app(), api_base_url=self.base_url)
        api.create_account(username, PASSWORD, f"{username}@example.org", agreement=True, locale="de")
        return api

    def log_in_with_password(self, email: str) -> Mastodon:
        api = Mastodon(*self._app(), api_base_url=self.base_url)
        api.log_in(email, PASSWORD, scopes=SCOPES, allow_http=True)  # loopback test server
        return api

    def log_in_with_code(self, email: str) -> Mastodon:
        """The authorization-code flow: the consent page shows the out-of-band code, the app exchanges it."""
        api = Mastodon(*self._app(), api_base_url=self.base_url)
        url = api.auth_request_url(redirect_uris=OUT_OF_BAND, scopes=SCOPES, allow_http=True)
        code = approve_in_the_browser(url, email, PASSWORD)
        api.log_in(code=code, redirect_uri=OUT_OF_BAND, scopes=SCOPES, allow_http=True)
        return api

    def _app(self) -> tuple[str, str]:
        client_id, client_secret = Mastodon.create_app("a resident's day", scopes=SCOPES, redirect_uris=OUT_OF_BAND,
                                                       api_base_url=self.base_url)
        return client_id, client_secret

    def assert_no_errors(self) -> None:
        log = self.process.log()
        assert "Traceback" not in log, log[-6000:]


@pytest.fixture(scope="module")
def cities(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[City, City]]:
    root = tmp_path_factory.mktemp("two-cities")
    first, second = CityDir(root / "city1", free_port()), CityDir(root / "city2", free_port())
    with serving(first) as process1, serving(second) as process2:
        yield City(first, process1), City(second, process2)


def wait_for(what: str, probe: Callable[[], T]) -> T:
    """Ask again every 0.3 s until the answer is truthy; fails after WAIT seconds, saying what it waited for."""
    deadline = time.monotonic() + WAIT
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {WAIT:.0f} s for {what}; last answer: {answer!r}")
        time.sleep(0.3)


def jpeg(width: int = 640, height: int = 480) -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(picture, format="JPEG")
    return picture.getvalue()


def test_log_in_with_the_code_flow_and_post_a_picture(cities: tuple[City, City]) -> None:
    city, _ = cities
    create_account(city.directory, "anna")
    anna = city.log_in_with_code("anna@example.org")
    assert anna.account_verify_credentials().username == "anna"
    assert anna.app_verify_credentials().name == "a resident's day"

    media = anna.media_post(jpeg(), mime_type="image/jpeg", description="Der neue Brunnen am Altmarkt",
                            focus=(0.0, 0.5), synchronous=True)
    assert media.type == "image" and media.description == "Der neue Brunnen am Altmarkt"
    assert media.meta.original.width == 640 and media.meta.original.height == 480
    posted = anna.status_post("Der Brunnen läuft wieder!", media_ids=[media.id], language="de")
    [attached] = posted.media_attachments
    assert attached.id == media.id and attached.description == "Der neue Brunnen am Altmarkt"
    picture = httpx.get(attached.url, timeout=10)
    assert picture.status_code == 200 and picture.headers["content-type"].startswith("image/")
    assert Image.open(io.BytesIO(picture.content)).size == (640, 480)
    again = anna.status(posted.id)  # as any client reads it back later
    assert [item.id for item in again.media_attachments] == [media.id]
    city.assert_no_errors()


def test_a_neighbour_follows_mentions_likes_and_boosts_and_each_is_notified(cities: tuple[City, City]) -> None:
    city, _ = cities
    berta, chris = city.sign_up("berta"), city.sign_up("chris")
    berta_id = berta.me().id
    assert chris.account_follow(berta_id).following is True

    post = berta.status_post("Wer hilft beim Straßenfest am Samstag?")
    reply = chris.status_post("@berta Ich bringe Kuchen mit!", in_reply_to_id=post.id)
    assert chris.status_favourite(post.id).favourited is True
    assert chris.status_reblog(post.id).reblog.id == post.id

    notified = wait_for("berta's four notifications", lambda: berta.notifications(limit=10)
                        if len(berta.notifications(limit=10)) >= 4 else None)
    assert [n.type for n in notified] == ["reblog", "favourite", "mention", "follow"]  # newest first
    assert {n.account.username for n in notified} == {"chris"}
    assert [n.status.id for n in notified[:3]] == [post.id, post.id, reply.id]
    assert notified[3].status is None

    # And back: berta boosts, likes and bookmarks chris's reply.
    assert berta.status_reblog(reply.id).reblog.id == reply.id
    assert berta.status_favourite(reply.id).favourited is True
    assert berta.status_bookmark(reply.id).bookmarked is True
    seen = berta.status(reply.id)
    assert seen.reblogged and seen.favourited and seen.bookmarked
    assert [s.id for s in berta.bookmarks()] == [reply.id]
    assert [s.id for s in berta.favourites()] == [reply.id]
    assert [n.type for n in chris.notifications(types=["favourite", "reblog"])] == ["favourite", "reblog"]
    city.assert_no_errors()


def test_follow_a_resident_of_the_other_city_and_her_posts_arrive_followers_only_too(
        cities: tuple[City, City]) -> None:
    city1, city2 = cities
    dora, emil = city1.sign_up("dora"), city1.sign_up("emil")  # dora will follow frieda; emil never does
    frieda, gustav = city2.sign_up("frieda"), city2.sign_up("gustav")  # gustav lives in frieda's city, no follower

    found = dora.search(f"@frieda@{city2.domain}", resolve=True, result_type="accounts")
    [remote] = found.accounts
    assert remote.acct == f"frieda@{city2.domain}" and remote.url.startswith(city2.base_url)
    dora.account_follow(remote.id)
    wait_for("frieda's Accept", lambda: dora.account_relationships([remote.id])[0].following)
    wait_for("city 2 to count dora as frieda's follower", lambda: frieda.me().followers_count == 1)

    public = frieda.status_post("Grüße aus der Nachbarstadt #Nachbarschaft")
    private = frieda.status_post("Nur für Folgende: Flohmarkt im Hof #Nachbarschaft", visibility="private")

    def home_texts() -> list[Any]:
        return [s for s in dora.timeline_home(limit=20) if s.account.acct == remote.acct]

    arrived = wait_for("both of frieda's posts in dora's home timeline", lambda: (
        home_texts() if len(home_texts()) == 2 else None))
    by_visibility = {s.visibility: s for s in arrived}
    assert set(by_visibility) == {"public", "private"}
    assert "Flohmarkt" in by_visibility["private"].content and "Grüße" in by_visibility["public"].content
    assert by_visibility["private"].uri == private.uri and by_visibility["public"].uri == public.uri
    city1_private, city1_public = by_visibility["private"], by_visibility["public"]

    # emil, no follower, in the same city as dora: the public post is there for him, the other never is.
    assert emil.status(city1_public.id).id == city1_public.id  # the control: he does see what he may
    with pytest.raises(MastodonNotFoundError):
        emil.status(city1_private.id)
    with pytest.raises(MastodonNotFoundError):
        emil.status_context(city1_private.id)
    for timeline in (emil.timeline_home(), emil.timeline_public(), emil.timeline_public(remote=True),
                     emil.timeline_hashtag("Nachbarschaft"), emil.account_statuses(remote.id),
                     emil.search("Flohmarkt", result_type="statuses").statuses,
                     emil.search(private.uri, resolve=True, result_type="statuses").statuses,
                     emil.search(private.url, resolve=True, result_type="statuses").statuses):
        assert city1_private.id not in [s.id for s in timeline]
    assert city1_public.id in [s.id for s in emil.timeline_hashtag("Nachbarschaft")]
    # And gustav, frieda's own neighbour who does not follow her, gets nothing either.
    with pytest.raises(MastodonNotFoundError):
        gustav.status(private.id)
    assert [s.id for s in gustav.account_statuses(frieda.me().id)] == [public.id]
    city1.assert_no_errors()
    city2.assert_no_errors()


def test_home_timeline_reads_page_by_page_without_gaps_or_duplicates(cities: tuple[City, City]) -> None:
    city, _ = cities
    hanna, ida, jonas = city.sign_up("hanna"), city.sign_up("ida"), city.sign_up("jonas")
    hanna.account_follow(ida.me().id)
    posted = []
    for number in range(23):  # hanna's own posts and those of ida she follows, interleaved
        author = hanna if number % 2 else ida
        posted.append(author.status_post(f"Beitrag Nummer {number}").id)
    jonas.status_post("Jonas folgt niemand: nicht in Hannas Timeline")
    expected = sorted(posted, reverse=True)  # ids are time-ordered (DESIGN.md, Identity and order)

    pages, page = [], hanna.timeline_home(limit=5)
    while page:
        pages.append(page)
        assert len(pages) <= 10, "the pages never end"
        page = hanna.fetch_next(page)
    read = [s.id for current in pages for s in current]
    assert read == expected  # strict reverse-chronological order, no duplicates, no gaps
    assert [len(current) for current in pages] == [5, 5, 5, 5, 3]
    created = [s.created_at for current in pages for s in current]
    assert created == sorted(created, reverse=True)

    by_max_id, max_id = [], None
    while True:  # the same by hand, as clients without Link headers do
        chunk = hanna.timeline_home(limit=7, max_id=max_id)
        if not chunk:
            break
        by_max_id += [s.id for s in chunk]
        max_id = chunk[-1].id
    assert by_max_id == expected
    # min_id: the page right after a given post, newest first; since_id: the newest page after it.
    assert [s.id for s in hanna.timeline_home(min_id=expected[-1], limit=4)] == expected[-5:-1]
    assert [s.id for s in hanna.timeline_home(since_id=expected[-1], limit=4)] == expected[:4]
    newer = hanna.fetch_previous(pages[1])
    assert [s.id for s in newer] == expected[:5]
    city.assert_no_errors()


def test_stream_user_sees_a_new_post_and_a_notification(cities: tuple[City, City]) -> None:
    city, _ = cities
    kai, lena = city.sign_up("kai"), city.sign_up("lena")
    kai.account_follow(lena.me().id)
    mine = kai.status_post("Heute Abend Konzert im Park?")
    listener = Collector()
    handle = kai.stream_user(listener, run_async=True, timeout=WAIT)
    try:
        assert listener.connected.wait(WAIT), "the stream never answered"
        news = lena.status_post("Ja! Ab 19 Uhr spielt die Stadtkapelle")
        lena.status_favourite(mine.id)
        assert listener.both.wait(WAIT), (listener.updates, listener.notifications)
        updates, notifications = list(listener.updates), list(listener.notifications)
    finally:
        # At the end of the day kai logs out. Revoking the token ends the stream from the server's side
        # (within streaming.hub.REVALIDATE seconds) and the listener's thread with it; closing from this
        # side would only be noticed at the next byte, a heartbeat up to 15 s away.
        kai.revoke_access_token(allow_http=True)
        handle.join(WAIT)
        handle.close()
    assert not handle.is_alive()
    assert [status.id for status in updates] == [news.id]
    [notification] = notifications
    assert notification.type == "favourite" and notification.account.username == "lena"
    assert notification.status.id == mine.id
    city.assert_no_errors()


def test_both_servers_ran_the_day_without_an_error(cities: tuple[City, City]) -> None:
    """Whatever ran before in the module, neither server logged an error."""
    for city in cities:
        city.assert_no_errors()
        assert city.process.process.poll() is None
