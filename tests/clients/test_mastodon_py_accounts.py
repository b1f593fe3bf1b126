"""Mastodon.py signs up, edits its profile, finds and follows someone, as a script or bot does."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from mastodon import Mastodon
from PIL import Image

from tests.e2e.servers import serve

pytestmark = pytest.mark.e2e


def test_sign_up_update_profile_and_follow(tmp_path: Path) -> None:
    with serve(tmp_path / "moers") as server:
        client_id, client_secret = Mastodon.create_app("fedserver tests", api_base_url=server.base_url)
        anna = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.base_url)
        anna.create_account("anna", "long-password-1", "anna@example.org", agreement=True, locale="de")
        assert anna.account_verify_credentials().username == "anna"
        picture = io.BytesIO()
        Image.new("RGB", (600, 300), (0, 90, 160)).save(picture, format="JPEG")
        updated = anna.account_update_credentials(
            display_name="Anna", note="Aus Moers", locked=False, avatar=picture.getvalue(), avatar_mime_type="image/jpeg",
            fields=[("Verein", "TV Moers"), ("Web", "https://anna.example")])
        assert updated.display_name == "Anna" and [field.name for field in updated.fields] == ["Verein", "Web"]
        assert "/media/" in updated.avatar
        ben = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.base_url)
        ben.create_account("ben", "long-password-2", "ben@example.org", agreement=True)
        found = ben.account_search("ann")
        assert [account.acct for account in found] == ["anna"]
        relationship = ben.account_follow(found[0].id, notify=True)
        assert relationship.following and relationship.notifying
        assert [account.acct for account in anna.account_followers(anna.me().id)] == ["ben"]
        assert ben.account_relationships([found[0].id])[0].following
        assert ben.account_unfollow(found[0].id).following is False
