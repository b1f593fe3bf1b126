"""Count the trips to aiosqlite's thread (fedserver/sqlite_driver.py makes one per statement)."""
from __future__ import annotations

from typing import Any

import pytest


def count_hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The functions sent to aiosqlite's thread from now on, by name."""
    import aiosqlite

    hops: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return hops
