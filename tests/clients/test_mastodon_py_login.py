"""Mastodon.py logs in to a real `fedserver serve` the way scripts and bots do (CLIENTS.md)."""
from __future__ import annotations

from pathlib import Path

import pytest
from mastodon import Mastodon

from tests.e2e.servers import run_cli, serve

pytestmark = pytest.mark.e2e


def test_password_login_verify_credentials_and_instance(tmp_path: Path) -> None:
    with serve(tmp_path / "moers") as server:
        domain = server.base_url.removeprefix("http://")
        env = {"FEDSERVER_DATA_DIR": str(tmp_path / "moers"), "FEDSERVER_DOMAIN": domain, "FEDSERVER_HTTP": "1"}
        assert run_cli(["account", "create", "anna", "--email", "anna@example.org",
                        "--password", "long-password-1"], env).returncode == 0
        client_id, client_secret = Mastodon.create_app("fedserver tests", api_base_url=server.base_url)
        api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.base_url)
        api.log_in("anna@example.org", "long-password-1", allow_http=True)  # loopback test server
        me = api.account_verify_credentials()
        assert me.username == "anna" and me.acct == "anna"
        assert me.source.privacy == "public"
        instance = api.instance()
        assert instance.domain == domain
        assert instance.api_versions.mastodon == 2
        with pytest.raises(Exception, match="password"):
            Mastodon(client_id=client_id, client_secret=client_secret,
                     api_base_url=server.base_url).log_in("anna@example.org", "wrong password", allow_http=True)
