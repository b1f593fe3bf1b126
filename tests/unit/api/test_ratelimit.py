"""Rate limits (Mastodon's numbers and headers) and CORS for browser clients, on a city in-process.

Requests come from 203.0.113.9 (TEST-NET-3): loopback is not limited, as on Mastodon. The
limiter's clock is set by the tests, so windows pass without waiting.
"""
from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from fedserver.api.ratelimit import RateLimiter
from tests.api_clients import bearer, token_for
from tests.cities import City

START = 1_800_000_000.0  # a moment on a 30-minute boundary: 2027-01-15T08:00:00Z


@pytest.fixture
def clock(moers: City) -> list[float]:
    """The limiter's time, in seconds since the epoch; tests move it forward."""
    now = [START]
    limiter: RateLimiter = moers.app.state.rate_limits
    limiter.clock = lambda: now[0]
    return now


@pytest.fixture
async def remote(moers: City, clock: list[float]) -> AsyncIterator[httpx.AsyncClient]:
    """A client that is not on this machine."""
    transport = httpx.ASGITransport(app=moers.app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=moers.settings.base_url) as client:
        yield client


async def _spend(client: httpx.AsyncClient, count: int, path: str = "/api/v0/nothing", **options: object) -> None:
    """Make requests that cost the server nothing but still count (an unknown API path answers 404)."""
    for _ in range(count):
        assert (await client.get(path, **options)).status_code != 429  # type: ignore[arg-type]


async def test_api_responses_carry_rate_limit_headers(remote: httpx.AsyncClient) -> None:
    response = await remote.get("/api/v1/instance")
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Limit"] == "300"
    assert response.headers["X-RateLimit-Remaining"] == "299"
    assert response.headers["X-RateLimit-Reset"] == "2027-01-15T08:05:00.000000Z"  # end of the 5-minute window


async def test_anonymous_client_past_300_requests_gets_429_until_the_window_ends(
        remote: httpx.AsyncClient, clock: list[float]) -> None:
    await _spend(remote, 300)
    refused = await remote.get("/api/v1/instance")
    assert refused.status_code == 429
    assert refused.json() == {"error": "Too many requests"}
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["Access-Control-Allow-Origin"] == "*"  # so a browser client can read why
    clock[0] += 5 * 60
    assert (await remote.get("/api/v1/instance")).headers["X-RateLimit-Remaining"] == "299"


async def test_each_token_has_its_own_budget(moers: City, remote: httpx.AsyncClient) -> None:
    await moers.create_account("alice")
    token = await token_for(moers, "alice", "read")
    await _spend(remote, 1, "/api/v1/accounts/verify_credentials", headers=bearer(token))  # now known as working
    await _spend(remote, 299)
    assert (await remote.get("/api/v0/nothing")).status_code == 429
    response = await remote.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Remaining"] == "299"


async def test_invented_tokens_count_against_the_address(remote: httpx.AsyncClient) -> None:
    for _ in range(300):
        await remote.get("/api/v1/accounts/verify_credentials", headers=bearer(secrets.token_urlsafe(16)))
    response = await remote.get("/api/v1/accounts/verify_credentials", headers=bearer(secrets.token_urlsafe(16)))
    assert response.status_code == 429


async def test_media_uploads_are_limited_to_30_per_30_minutes(moers: City, remote: httpx.AsyncClient,
                                                              clock: list[float]) -> None:
    await moers.create_account("alice")
    token = await token_for(moers, "alice", "read write")
    await _spend(remote, 1, "/api/v1/accounts/verify_credentials", headers=bearer(token))
    for _ in range(30):
        assert (await remote.post("/api/v2/media", headers=bearer(token))).status_code != 429
    refused = await remote.post("/api/v1/media", headers=bearer(token))
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Limit"] == "30"
    assert refused.headers["X-RateLimit-Reset"] == "2027-01-15T08:30:00.000000Z"
    assert (await remote.get("/api/v1/accounts/verify_credentials", headers=bearer(token))).status_code == 200
    clock[0] += 30 * 60
    assert (await remote.post("/api/v1/media", headers=bearer(token))).status_code != 429


async def test_sign_ups_are_limited_to_5_per_30_minutes_per_address(remote: httpx.AsyncClient) -> None:
    for number in range(5):
        response = await remote.post("/api/v1/accounts", json={"username": f"neu{number}"})
        assert response.status_code != 429
    assert (await remote.post("/api/v1/accounts", json={"username": "neu5"})).status_code == 429


async def test_loopback_and_streams_are_not_limited(moers: City, remote: httpx.AsyncClient) -> None:
    local = await moers.client.get("/api/v1/instance")
    assert "X-RateLimit-Limit" not in local.headers  # the machine itself (Mastodon safelists it too)
    assert "X-RateLimit-Limit" not in (await remote.get("/api/v1/streaming/health")).headers


async def test_preflight_allows_any_origin_with_authorization_and_idempotency_key(
        remote: httpx.AsyncClient) -> None:
    response = await remote.options("/api/v1/statuses", headers={
        "Origin": "https://elk.zone", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = {name.strip().lower() for name in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert "X-RateLimit-Remaining" not in response.headers  # preflights are not counted


async def test_token_endpoint_answers_preflight(remote: httpx.AsyncClient) -> None:
    response = await remote.options("/oauth/token", headers={
        "Origin": "https://phanpy.social", "Access-Control-Request-Method": "POST"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_api_responses_expose_link_and_rate_limit_headers(remote: httpx.AsyncClient) -> None:
    for path in ("/api/v1/instance", "/api/v0/nothing"):
        response = await remote.get(path, headers={"Origin": "https://elk.zone"})
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        exposed = {name.strip() for name in response.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"Link", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= exposed
