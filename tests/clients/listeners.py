"""A Mastodon.py stream listener shared by the streaming tests: it collects updates and notifications."""
from __future__ import annotations

import threading
from typing import Any

from mastodon import StreamListener


class Collector(StreamListener):  # type: ignore[misc]
    """Sets `connected` on the server's first heartbeat and `both` once an update and a notification came."""

    def __init__(self) -> None:
        self.updates: list[Any] = []
        self.notifications: list[Any] = []
        self.connected = threading.Event()
        self.both = threading.Event()

    def handle_heartbeat(self) -> None:
        self.connected.set()  # the server's first comment line: the stream is subscribed

    def on_update(self, status: Any) -> None:
        self.updates.append(status)
        self._check()

    def on_notification(self, notification: Any) -> None:
        self.notifications.append(notification)
        self._check()

    def _check(self) -> None:
        if self.updates and self.notifications:
            self.both.set()
