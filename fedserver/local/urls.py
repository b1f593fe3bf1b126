"""The URLs this instance mints for its own actors, statuses and activities (one place, one shape)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocalUrls:
    """Mastodon's URL layout, so that people and peers find what they expect where they expect it."""

    base_url: str  # scheme://host[:port], no trailing slash

    @property
    def domain(self) -> str:
        return self.base_url.split("://", 1)[1]

    def actor(self, username: str) -> str:
        return f"{self.base_url}/users/{username}"

    def profile(self, username: str) -> str:
        return f"{self.base_url}/@{username}"

    def inbox(self, username: str) -> str:
        return f"{self.actor(username)}/inbox"

    def outbox(self, username: str) -> str:
        return f"{self.actor(username)}/outbox"

    def followers(self, username: str) -> str:
        return f"{self.actor(username)}/followers"

    def following(self, username: str) -> str:
        return f"{self.actor(username)}/following"

    def featured(self, username: str) -> str:
        return f"{self.actor(username)}/collections/featured"

    def key_id(self, actor_ap_id: str) -> str:
        return f"{actor_ap_id}#main-key"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base_url}/inbox"

    @property
    def instance_actor(self) -> str:
        return f"{self.base_url}/actor"

    def status(self, username: str, status_id: int) -> str:
        return f"{self.actor(username)}/statuses/{status_id}"

    def status_page(self, username: str, status_id: int) -> str:
        return f"{self.profile(username)}/{status_id}"

    def activity(self, username: str, activity_id: int) -> str:
        return f"{self.actor(username)}/activities/{activity_id}"

    def tag(self, name: str) -> str:
        return f"{self.base_url}/tags/{name}"

    def media(self, path: str) -> str:
        return f"{self.base_url}/media/{path}"
