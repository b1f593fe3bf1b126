"""Cleaning HTML that came from elsewhere (remote posts, profiles) with nh3 before it is stored or shown."""
from __future__ import annotations

import nh3

# What Mastodon keeps of remote HTML (app/lib/sanitize_config.rb: MASTODON_STRICT), plus lists and headings.
ALLOWED_TAGS = {"p", "br", "a", "span", "strong", "em", "b", "i", "u", "s", "del", "pre", "code", "blockquote",
                "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "sub", "sup"}
ALLOWED_ATTRIBUTES = {"a": {"href", "class", "rel", "target", "translate"}, "span": {"class", "translate"},
                      "ol": {"start", "reversed"}, "li": {"value"}}
URL_SCHEMES = {"http", "https", "mailto", "xmpp", "magnet", "gemini"}


def clean(html: str) -> str:
    """Only harmless tags and attributes survive; scripts, styles, event handlers and odd URLs are dropped."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel=None)
