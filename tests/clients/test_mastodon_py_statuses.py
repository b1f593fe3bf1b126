"""Mastodon.py drives the statuses and polls endpoints of a real `fedserver serve`: post with a poll and an
Idempotency-Key, vote, reply, boost, favourite, bookmark, pin, mute, edit, history, context, delete."""
from __future__ import annotations

from pathlib import Path

import pytest
from mastodon import Mastodon
from mastodon.errors import MastodonNotFoundError

from tests.e2e.servers import run_cli, serve

pytestmark = pytest.mark.e2e


def _login(base_url: str, email: str) -> Mastodon:
    client_id, client_secret = Mastodon.create_app("fedserver tests", api_base_url=base_url)
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base_url)
    api.log_in(email, "long-password-1", allow_http=True)  # loopback test server
    return api


def test_a_resident_posts_votes_and_reacts_through_mastodon_py(tmp_path: Path) -> None:
    with serve(tmp_path / "moers") as server:
        domain = server.base_url.removeprefix("http://")
        env = {"FEDSERVER_DATA_DIR": str(tmp_path / "moers"), "FEDSERVER_DOMAIN": domain, "FEDSERVER_HTTP": "1"}
        for name in ("anna", "ben"):
            assert run_cli(["account", "create", name, "--email", f"{name}@example.org",
                            "--password", "long-password-1"], env).returncode == 0
        anna, ben = _login(server.base_url, "anna@example.org"), _login(server.base_url, "ben@example.org")

        poll = anna.make_poll(["Markt", "Park"], expires_in=3600)
        posted = anna.status_post("Wo soll der Brunnen stehen?", poll=poll, idempotency_key="brunnen-1")
        assert anna.status_post("nochmal", idempotency_key="brunnen-1").id == posted.id
        assert [option.title for option in posted.poll.options] == ["Markt", "Park"]
        voted = ben.poll_vote(posted.poll.id, [1])
        assert voted.own_votes == [1] and voted.votes_count == 1

        reply = ben.status_post("@anna Im Park!", in_reply_to_id=posted.id)
        assert reply.in_reply_to_id == posted.id
        assert [s.id for s in anna.status_context(posted.id).descendants] == [reply.id]
        assert ben.status_reblog(posted.id).reblog.id == posted.id
        assert ben.status_favourite(posted.id).favourited is True
        assert ben.status_bookmark(posted.id).bookmarked is True
        assert [account.username for account in anna.status_reblogged_by(posted.id)] == ["ben"]
        assert [account.username for account in anna.status_favourited_by(posted.id)] == ["ben"]
        assert anna.status_pin(posted.id).pinned is True
        assert anna.status_mute(posted.id).muted is True

        edited = anna.status_update(posted.id, "Wo soll der neue Brunnen stehen?", poll=poll)
        assert edited.edited_at is not None and edited.poll is not None
        assert len(anna.status_history(posted.id)) == 2
        assert anna.status_source(posted.id).text == "Wo soll der neue Brunnen stehen?"

        private = anna.status_post("Nur für Folgende", visibility="private")
        with pytest.raises(MastodonNotFoundError):
            ben.status(private.id)
        deleted = anna.status_delete(posted.id)
        assert deleted.text == "Wo soll der neue Brunnen stehen?"
        with pytest.raises(MastodonNotFoundError):
            ben.status(posted.id)
