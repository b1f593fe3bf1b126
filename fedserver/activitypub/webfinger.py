"""WebFinger (RFC 7033) and host-meta (RFC 6415) as Mastodon serves and reads them."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from fedserver.activitypub import extract, vocab
from fedserver.activitypub.errors import MalformedObject

PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"
# user@host[:port]; the host is an ASCII (punycode) name. Usernames on other servers may
# hold dots and dashes (Lemmy, Pleroma), so accept those beside Mastodon's [a-z0-9_].
_ACCOUNT = re.compile(r"^@?(?P<user>[A-Za-z0-9_.~-]+)@(?P<domain>[A-Za-z0-9.-]+(?::\d{1,5})?)$")


def is_url_resource(resource: str) -> bool:
    """True for an http(s) URL resource, which the caller resolves to an actor itself."""
    return resource.startswith(("https://", "http://"))


def parse_resource(resource: str) -> tuple[str, str]:
    """(username, domain) from acct:user@domain, user@domain or @user@domain."""
    account = resource.strip()
    if account.startswith("acct:"):
        account = account[len("acct:"):]
    match = _ACCOUNT.match(account)
    if match is None:
        raise MalformedObject(
            "resource", f"expected acct:user@domain, user@domain or @user@domain, got {resource[:80]!r}"
        )
    return match["user"], match["domain"].lower()


def render_jrd(subject: str, actor_iri: str, profile_url: str, aliases: list[str]) -> dict[str, Any]:
    """The JRD Mastodon answers for an account: profile page, self link, subscribe template."""
    parts = urlsplit(actor_iri)
    base = f"{parts.scheme}://{parts.netloc}"
    return {
        "subject": subject,
        "aliases": list(aliases),
        "links": [
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile_url},
            {"rel": "self", "type": vocab.ACTIVITY_JSON, "href": actor_iri},
            {"rel": SUBSCRIBE_REL, "template": f"{base}/authorize_interaction?uri={{uri}}"},
        ],
    }


def parse_jrd(doc: Mapping[str, Any]) -> str:
    """The actor IRI from a JRD's self link; raises MalformedObject when there is none."""
    for link in extract.as_list(doc.get("links")):
        if not isinstance(link, Mapping) or link.get("rel") != "self":
            continue
        href, link_type = link.get("href"), link.get("type")
        if isinstance(href, str) and href and _is_activity_type(link_type):
            return href
    raise MalformedObject("links", "no self link of type application/activity+json")


def render_host_meta(base_url: str) -> str:
    """The XRD document that points WebFinger clients at our lrdd template (RFC 6415)."""
    template = f"{base_url.rstrip('/')}/.well-known/webfinger?resource={{uri}}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={quoteattr(template)}/>\n'
        "</XRD>\n"
    )


def _is_activity_type(link_type: Any) -> bool:
    if not isinstance(link_type, str):
        return False
    # Servers differ in spacing and quoting of the profile parameter.
    compact = link_type.replace(" ", "").replace("'", '"').lower()
    return compact in {vocab.ACTIVITY_JSON, vocab.LD_JSON_AS2.replace(" ", "")}
