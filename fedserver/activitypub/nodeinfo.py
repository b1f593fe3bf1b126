"""NodeInfo discovery and documents, versions 2.0 and 2.1 (nodeinfo.diaspora.software)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

SOFTWARE_NAME: Final = "fedserver"  # the schema requires ^[a-z0-9-]+$
VERSIONS: Final = ("2.0", "2.1")
_SCHEMA_REL = "http://nodeinfo.diaspora.software/ns/schema/{version}"


@dataclass(frozen=True)
class NodeUsage:
    """The usage numbers NodeInfo publishes."""

    users_total: int
    active_month: int
    active_halfyear: int
    local_posts: int


def render_discovery(base_url: str) -> dict[str, Any]:
    """The /.well-known/nodeinfo document linking to both schema versions we serve."""
    base = base_url.rstrip("/")
    return {
        "links": [
            {"rel": _SCHEMA_REL.format(version=version), "href": f"{base}/nodeinfo/{version}"}
            for version in VERSIONS
        ]
    }


def render_nodeinfo(
    version: str,
    *,
    software_version: str,
    usage: NodeUsage,
    open_registrations: bool,
    metadata: dict[str, Any],
    repository: str | None = None,
    homepage: str | None = None,
) -> dict[str, Any]:
    """A NodeInfo 2.0 or 2.1 document; raises ValueError for any other version."""
    if version not in VERSIONS:
        raise ValueError(f"unknown NodeInfo version {version!r}; we serve {VERSIONS}")
    software: dict[str, Any] = {"name": SOFTWARE_NAME, "version": software_version}
    if version == "2.1":  # 2.0's schema forbids extra software properties
        software.update({k: v for k, v in (("repository", repository), ("homepage", homepage)) if v})
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": usage.users_total,
                "activeMonth": usage.active_month,
                "activeHalfyear": usage.active_halfyear,
            },
            "localPosts": usage.local_posts,
        },
        "metadata": dict(metadata),
    }
