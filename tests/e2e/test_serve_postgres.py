"""`fedserver serve --database-url postgresql+asyncpg://...` works against a real PostgreSQL server."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import serve

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def test_serve_demo_on_postgresql(tmp_path: Path, fresh_postgres_url: str) -> None:
    with serve(tmp_path / "moers", "--demo", database_url=fresh_postgres_url) as server:
        nodeinfo = httpx.get(f"{server.base_url}/nodeinfo/2.0", timeout=10).json()
        assert nodeinfo["usage"]["users"]["total"] == 6
        actor = httpx.get(f"{server.base_url}/users/stadt_moers", headers={"Accept": "application/activity+json"})
        assert actor.json()["type"] == "Organization"
