"""addressing: Mastodon's to/cc conventions, both ways."""
from __future__ import annotations

import pytest

from fedserver.activitypub import addressing
from fedserver.activitypub.vocab import PUBLIC

FOLLOWERS = "https://moers.test/users/alice/followers"
BOB = "https://solingen.test/users/bob"
CARLA = "https://krefeld.test/users/carla"


@pytest.mark.parametrize(
    ("visibility", "to", "cc"),
    [
        ("public", (PUBLIC,), (FOLLOWERS, BOB)),
        ("unlisted", (FOLLOWERS,), (PUBLIC, BOB)),
        ("private", (FOLLOWERS,), (BOB,)),
        ("direct", (BOB,), ()),
    ],
)
def test_address_follows_mastodon(visibility: str, to: tuple[str, ...], cc: tuple[str, ...]) -> None:
    assert addressing.address(visibility, FOLLOWERS, [BOB]) == (to, cc)


@pytest.mark.parametrize("visibility", addressing.VISIBILITIES)
def test_visibility_round_trips(visibility: str) -> None:
    to, cc = addressing.address(visibility, FOLLOWERS, [BOB, CARLA])
    assert addressing.visibility_of(to, cc, FOLLOWERS) == visibility


def test_address_drops_duplicate_mentions() -> None:
    assert addressing.address("direct", FOLLOWERS, [BOB, BOB, CARLA]) == ((BOB, CARLA), ())


def test_address_rejects_unknown_visibility() -> None:
    with pytest.raises(ValueError, match="unknown visibility"):
        addressing.address("secret", FOLLOWERS, [])


@pytest.mark.parametrize("spelling", ["as:Public", "Public"])
def test_visibility_of_accepts_compact_public(spelling: str) -> None:
    assert addressing.visibility_of([spelling], [], FOLLOWERS) == "public"
    assert addressing.visibility_of([FOLLOWERS], [spelling], FOLLOWERS) == "unlisted"


def test_visibility_of_followers_in_cc_is_private() -> None:
    assert addressing.visibility_of([BOB], [FOLLOWERS], FOLLOWERS) == "private"


def test_visibility_of_unknown_followers_is_direct() -> None:
    assert addressing.visibility_of([FOLLOWERS], [], None) == "direct"
