"""WebFinger, host-meta and NodeInfo as Mastodon and its clients read them."""
from __future__ import annotations

import pytest

from tests.cities import City

AP = "application/activity+json"


async def test_webfinger_acct_resolves_to_actor(moers: City) -> None:
    await moers.create_account("alice")
    response = await moers.client.get("/.well-known/webfinger", params={"resource": "acct:alice@moers.test"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jrd+json")
    assert response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    assert document["subject"] == "acct:alice@moers.test"
    assert "https://moers.test/users/alice" in document["aliases"]
    self_links = [link for link in document["links"] if link["rel"] == "self"]
    assert self_links == [{"rel": "self", "type": AP, "href": "https://moers.test/users/alice"}]
    profile = [link for link in document["links"] if link["rel"] == "http://webfinger.net/rel/profile-page"]
    assert profile[0]["href"] == "https://moers.test/@alice"


@pytest.mark.parametrize("resource", ["acct:ALICE@moers.test", "alice@moers.test", "https://moers.test/users/alice",
                                      "https://moers.test/@alice"])
async def test_webfinger_accepts_every_resource_form(moers: City, resource: str) -> None:
    await moers.create_account("alice")
    response = await moers.client.get("/.well-known/webfinger", params={"resource": resource})
    assert response.status_code == 200, response.text
    assert response.json()["subject"] == "acct:alice@moers.test"


async def test_webfinger_finds_instance_actor(moers: City) -> None:
    response = await moers.client.get("/.well-known/webfinger", params={"resource": "acct:moers.test@moers.test"})
    assert response.status_code == 200
    assert any(link.get("href") == "https://moers.test/actor" for link in response.json()["links"])


@pytest.mark.parametrize(("params", "status"), [
    ({}, 400),
    ({"resource": "acct:"}, 400),
    ({"resource": "alice"}, 400),
    ({"resource": "acct:a@b@c"}, 400),
    ({"resource": "acct:nobody@moers.test"}, 404),
    ({"resource": "acct:alice@solingen.test"}, 404),
    ({"resource": "https://solingen.test/users/alice"}, 404),
])
async def test_webfinger_bad_resources_get_clear_errors(moers: City, params: dict[str, str], status: int) -> None:
    await moers.create_account("alice")
    response = await moers.client.get("/.well-known/webfinger", params=params)
    assert response.status_code == status
    assert response.json()["error"]


async def test_host_meta_points_to_webfinger(moers: City) -> None:
    response = await moers.client.get("/.well-known/host-meta")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xrd+xml")
    assert 'template="https://moers.test/.well-known/webfinger?resource={uri}"' in response.text


async def test_nodeinfo_counts_real_usage(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    await moers.post("alice", "Hallo Moers")
    await moers.post("bob", "Nur für Freunde", visibility="private")
    links = (await moers.client.get("/.well-known/nodeinfo")).json()["links"]
    hrefs = {link["rel"].rsplit("/", 1)[-1]: link["href"] for link in links}
    assert hrefs == {"2.0": "https://moers.test/nodeinfo/2.0", "2.1": "https://moers.test/nodeinfo/2.1"}
    for version in ("2.0", "2.1"):
        document = (await moers.client.get(f"/nodeinfo/{version}")).json()
        assert document["version"] == version
        assert document["software"]["name"] == "fedserver"
        assert document["protocols"] == ["activitypub"]
        assert document["usage"]["users"] == {"total": 2, "activeMonth": 2, "activeHalfyear": 2}
        assert document["usage"]["localPosts"] == 2
        assert document["openRegistrations"] is True
        assert document["metadata"]["nodeName"] == "Moers"
        assert document["metadata"]["upstream"]["name"] == "mastodon"


async def test_unknown_nodeinfo_version_is_404(moers: City) -> None:
    response = await moers.client.get("/nodeinfo/9.9")
    assert response.status_code == 404
    assert "2.0" in response.json()["error"]
