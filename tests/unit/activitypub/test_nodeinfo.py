"""nodeinfo: discovery and documents that hold to the 2.0 and 2.1 schemas."""
from __future__ import annotations

import re
from typing import Any

import pytest

from fedserver.activitypub import nodeinfo

USAGE = nodeinfo.NodeUsage(users_total=12, active_month=5, active_halfyear=9, local_posts=340)


def render(version: str, **extra: Any) -> dict[str, Any]:
    return nodeinfo.render_nodeinfo(version, software_version="0.1.0", usage=USAGE, open_registrations=True,
                                    metadata={"nodeName": "Moers"}, **extra)


def test_discovery_links_both_versions() -> None:
    assert nodeinfo.render_discovery("https://moers.test/") == {"links": [
        {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": "https://moers.test/nodeinfo/2.0"},
        {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": "https://moers.test/nodeinfo/2.1"},
    ]}


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_document_holds_to_the_schema(version: str) -> None:
    doc = render(version, repository="https://git.example/fedserver", homepage="https://fedserver.example")
    # Required properties and constraints of nodeinfo.diaspora.software/ns/schema/2.0 and 2.1.
    assert set(doc) == {"version", "software", "protocols", "services", "openRegistrations", "usage", "metadata"}
    assert doc["version"] == version
    assert re.fullmatch(r"[a-z0-9-]+", doc["software"]["name"])
    assert doc["protocols"] == ["activitypub"]
    assert doc["services"] == {"inbound": [], "outbound": []}
    assert doc["usage"] == {"users": {"total": 12, "activeMonth": 5, "activeHalfyear": 9}, "localPosts": 340}
    assert isinstance(doc["openRegistrations"], bool) and doc["metadata"] == {"nodeName": "Moers"}


def test_software_repository_only_in_2_1() -> None:
    assert set(render("2.0", repository="https://git.example/f")["software"]) == {"name", "version"}
    assert render("2.1", repository="https://git.example/f")["software"]["repository"] == "https://git.example/f"


def test_unknown_version_raises() -> None:
    with pytest.raises(ValueError, match="unknown NodeInfo version"):
        render("1.0")
