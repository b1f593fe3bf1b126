"""The bearer token and its account are read in one statement (local/oauth.py authenticate): app-only tokens
(no account) still work, and a revoked token stops working at once."""
from __future__ import annotations

from pathlib import Path

from tests.api_clients import bearer
from tests.cities import PASSWORD, City, start_city

APP = {"client_name": "Karte", "scopes": "read write", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}


async def _token(city: City, grant: dict[str, str]) -> tuple[dict[str, str], str]:
    app = (await city.client.post("/api/v1/apps", json=APP)).json()
    issued = await city.client.post("/oauth/token", json={
        **grant, "client_id": app["client_id"], "client_secret": app["client_secret"], "scope": "read write"})
    assert issued.status_code == 200, issued.text
    return app, str(issued.json()["access_token"])


async def _revoke(city: City, app: dict[str, str], token: str) -> None:
    revoked = await city.client.post("/oauth/revoke", data={
        "client_id": app["client_id"], "client_secret": app["client_secret"], "token": token})
    assert revoked.status_code == 200, revoked.text


async def test_an_app_only_token_is_accepted_where_no_account_is_needed_until_revoked(tmp_path: Path) -> None:
    async with start_city(tmp_path / "moers") as city:
        app, token = await _token(city, {"grant_type": "client_credentials"})
        public = await city.client.get("/api/v1/timelines/public", headers=bearer(token))
        assert public.status_code == 200, public.text
        home = await city.client.get("/api/v1/timelines/home", headers=bearer(token))
        assert home.status_code == 422
        assert home.json()["error"] == "This method requires an authenticated user"
        await _revoke(city, app, token)
        gone = await city.client.get("/api/v1/timelines/public", headers=bearer(token))
        assert gone.status_code == 401
        assert gone.json()["error"] == "The access token is invalid"


async def test_a_user_token_gives_its_account_and_stops_at_once_when_revoked(tmp_path: Path) -> None:
    async with start_city(tmp_path / "moers") as city:
        await city.create_account("anna")
        app, token = await _token(city, {"grant_type": "password", "username": "anna", "password": PASSWORD})
        me = await city.client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "anna"
        await _revoke(city, app, token)
        gone = await city.client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
        assert gone.status_code == 401
