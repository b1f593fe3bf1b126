"""webfinger: resources, JRD documents both ways, host-meta."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from fedserver.activitypub import vocab, webfinger
from fedserver.activitypub.errors import MalformedObject

ACTOR = "http://localhost:8001/users/alice"


@pytest.mark.parametrize("resource", ["acct:alice@moers.test", "alice@moers.test", "@alice@moers.test",
                                      "acct:alice@MOERS.test"])
def test_parse_resource_forms(resource: str) -> None:
    assert webfinger.parse_resource(resource) == ("alice", "moers.test")


def test_parse_resource_keeps_the_port() -> None:
    assert webfinger.parse_resource("acct:alice@localhost:8001") == ("alice", "localhost:8001")


@pytest.mark.parametrize("resource", ["alice", "acct:alice", "acct:@moers.test", "alice@", "a b@moers.test",
                                      "https://moers.test/@alice", "acct:alice@moers.test/x"])
def test_parse_resource_rejects_anything_else(resource: str) -> None:
    with pytest.raises(MalformedObject, match="^resource: expected acct:user@domain"):
        webfinger.parse_resource(resource)


def test_is_url_resource() -> None:
    assert webfinger.is_url_resource("https://moers.test/users/alice")
    assert not webfinger.is_url_resource("acct:alice@moers.test")


def test_render_jrd_like_mastodon() -> None:
    jrd = webfinger.render_jrd("acct:alice@localhost:8001", ACTOR, "http://localhost:8001/@alice",
                               ["http://localhost:8001/@alice", ACTOR])
    assert jrd["links"][2] == {"rel": "http://ostatus.org/schema/1.0/subscribe",
                               "template": "http://localhost:8001/authorize_interaction?uri={uri}"}
    assert webfinger.parse_jrd(jrd) == ACTOR


@pytest.mark.parametrize("link_type", [vocab.LD_JSON_AS2, 'application/ld+json;profile="https://www.w3.org/ns/activitystreams"'])
def test_parse_jrd_accepts_ld_json_profile(link_type: str) -> None:
    jrd = {"links": [{"rel": "self", "type": "text/html", "href": "https://x.test/@a"},
                     {"rel": "self", "type": link_type, "href": "https://x.test/u/a"}]}
    assert webfinger.parse_jrd(jrd) == "https://x.test/u/a"


@pytest.mark.parametrize("jrd", [{}, {"links": []}, {"links": [{"rel": "self", "type": "text/html", "href": "x"}]},
                                 {"links": "nope"}])
def test_parse_jrd_without_self_link_raises(jrd: dict[str, object]) -> None:
    with pytest.raises(MalformedObject, match="^links: "):
        webfinger.parse_jrd(jrd)


def test_render_host_meta_is_xrd_with_lrdd_template() -> None:
    root = ET.fromstring(webfinger.render_host_meta("https://moers.test/"))
    link = root.find("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")
    assert link is not None and link.get("rel") == "lrdd"
    assert link.get("template") == "https://moers.test/.well-known/webfinger?resource={uri}"
