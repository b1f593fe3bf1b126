"""The command-line contract: account create, status post, db upgrade, and clear errors."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import run_cli, serve

pytestmark = pytest.mark.e2e


def test_account_create_and_status_post_show_up_in_the_served_outbox(tmp_path: Path) -> None:
    data_dir = tmp_path / "moers"
    with serve(data_dir) as server:
        # The CLI finds the running instance through the same env vars (DESIGN.md, contract).
        env = {"FEDSERVER_DATA_DIR": str(data_dir), "FEDSERVER_DOMAIN": server.base_url.removeprefix("http://"),
               "FEDSERVER_HTTP": "1"}
        created = run_cli(["account", "create", "Alice", "--email", "alice@example.org",
                           "--password", "long-password-1", "--kind", "club"], env)
        assert created.returncode == 0, created.stderr
        assert f"@Alice@{env['FEDSERVER_DOMAIN']}" in created.stdout
        posted = run_cli(["status", "post", "alice", "Hallo #Moers", "--visibility", "unlisted"], env)
        assert posted.returncode == 0, posted.stderr
        headers = {"Accept": "application/activity+json"}
        actor = httpx.get(f"{server.base_url}/users/alice", headers=headers, follow_redirects=True).json()
        assert actor["type"] == "Organization" and actor["id"] == f"{server.base_url}/users/Alice"
        page = httpx.get(f"{actor['outbox']}?page=true", headers=headers).json()
        assert [item["object"]["content"] for item in page["orderedItems"]] == [
            f'<p>Hallo <a href="{server.base_url}/tags/moers" class="mention hashtag" rel="tag">#<span>Moers</span></a></p>'
        ]


def test_duplicate_username_is_refused_without_traceback(tmp_path: Path) -> None:
    env = {"FEDSERVER_DATA_DIR": str(tmp_path / "moers")}
    args = ["account", "create", "bob", "--email", "bob@example.org", "--password", "long-password-1"]
    assert run_cli(args, env).returncode == 0
    again = run_cli(["account", "create", "BOB", "--email", "b2@example.org", "--password", "long-password-1"], env)
    assert again.returncode == 1
    assert "already taken" in again.stderr and "Traceback" not in again.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["db", "upgrade", "--domain", "not a domain"], "domain"),
    (["db", "upgrade", "--database-url", "mysql://nope"], "database URL"),
    (["status", "post", "nobody", "text"], "no account @nobody"),
    (["account", "create", "admin", "--email", "a@example.org", "--password", "long-password-1"], "reserved"),
    (["account", "create", "x", "--email", "not-an-email", "--password", "long-password-1"], "e-mail"),
    (["account", "create", "y", "--email", "y@example.org", "--password", "short"], "password"),
])
def test_bad_input_gets_a_one_line_error(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli(args, {"FEDSERVER_DATA_DIR": str(tmp_path / "moers")})
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_latitude_is_a_configuration_error(tmp_path: Path) -> None:
    result = run_cli(["db", "upgrade"], {"FEDSERVER_DATA_DIR": str(tmp_path / "d"), "FEDSERVER_CITY_LATITUDE": "123"})
    assert result.returncode == 2
    assert "latitude" in result.stderr and "Traceback" not in result.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = run_cli(["db", "upgrade"], {"FEDSERVER_DATA_DIR": str(tmp_path / "moers")})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "moers" / "fedserver.db").exists()


def test_city_flags_reach_nodeinfo(tmp_path: Path) -> None:
    with serve(tmp_path / "solingen", "--city-name", "Solingen", "--city-latitude", "51.1652",
               "--city-longitude", "7.0671", "--city-radius-km", "20") as server:
        city = httpx.get(f"{server.base_url}/nodeinfo/2.1").json()["metadata"]["city"]
    assert city == {"name": "Solingen", "latitude": 51.1652, "longitude": 7.0671, "radiusKm": 20.0}


def test_serve_refuses_a_bad_latitude_flag(tmp_path: Path) -> None:
    result = run_cli(["serve", "--city-latitude", "100", "--data-dir", str(tmp_path)], {})
    assert result.returncode == 2
    assert "latitude" in result.stderr and "Traceback" not in result.stderr
