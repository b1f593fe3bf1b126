"""Visibility <-> to/cc, as Mastodon addresses posts (docs.joinmastodon.org/spec/activitypub).

public: to Public, cc followers; unlisted: to followers, cc Public; private: to followers;
direct: to the mentioned actors only. Mentioned actors are always addressed so they are notified.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from fedserver.activitypub.vocab import PUBLIC, is_public

PUBLIC_VISIBILITY: Final = "public"
UNLISTED: Final = "unlisted"
PRIVATE: Final = "private"
DIRECT: Final = "direct"
VISIBILITIES: Final = (PUBLIC_VISIBILITY, UNLISTED, PRIVATE, DIRECT)


def address(
    visibility: str, followers_iri: str, mentioned_iris: Iterable[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (to, cc) of a post with this visibility; raises ValueError for an unknown one."""
    mentions = tuple(dict.fromkeys(iri for iri in mentioned_iris if iri != followers_iri))
    if visibility == PUBLIC_VISIBILITY:
        return (PUBLIC,), (followers_iri, *mentions)
    if visibility == UNLISTED:
        return (followers_iri,), (PUBLIC, *mentions)
    if visibility == PRIVATE:
        return (followers_iri,), mentions
    if visibility == DIRECT:
        return mentions, ()
    raise ValueError(f"unknown visibility {visibility!r}; expected one of {VISIBILITIES}")


def visibility_of(to: Iterable[str], cc: Iterable[str], followers_iri: str | None) -> str:
    """The visibility a post's addressing expresses, read the way Mastodon reads it."""
    to, cc = tuple(to), tuple(cc)
    if any(is_public(iri) for iri in to):
        return PUBLIC_VISIBILITY
    if any(is_public(iri) for iri in cc):
        return UNLISTED
    # Mastodon looks for the followers collection in "to"; some servers put it in "cc".
    if followers_iri is not None and followers_iri in (*to, *cc):
        return PRIVATE
    return DIRECT
