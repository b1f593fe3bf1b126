"""The demo city in a real browser: a demo resident logs in, follows the city's accounts from their profiles and
sees their posts at home. With FEDSERVER_SCREENSHOTS=docs/screenshots set, the desktop view of that home
timeline is saved as home.png there (the README's picture)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from fedserver.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.e2e.servers import serve

pytestmark = pytest.mark.e2e
RESIDENT = "anna"
SCREENSHOTS_VARIABLE = "FEDSERVER_SCREENSHOTS"


def _readme_screenshot(page: Any) -> Path | None:
    """Save the page as home.png in $FEDSERVER_SCREENSHOTS (relative to the checkout), when it is set."""
    folder = os.environ.get(SCREENSHOTS_VARIABLE)
    if not folder:
        return None
    path = Path(folder) if Path(folder).is_absolute() else Path(__file__).parents[2] / folder
    path.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path / "home.png"), full_page=False)
    return path / "home.png"


def test_demo_resident_follows_the_city_and_reads_home(tmp_path: Path, chromium: Any) -> None:
    with serve(tmp_path / "city", "--demo") as server:
        base = server.base_url
        context = chromium.new_context(locale="de-DE", viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.goto(f"{base}/login")
        page.get_by_label("E-Mail-Adresse oder Benutzername").fill(RESIDENT)
        page.get_by_label("Passwort").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url(f"{base}/home")
        others = [demo for demo in DEMO_ACCOUNTS if demo.username != RESIDENT]
        for demo in others:
            page.goto(f"{base}/@{demo.username}")
            page.get_by_role("button", name="Folgen").click()
            assert page.get_by_role("button", name="Entfolgen").is_visible()
        page.goto(f"{base}/home")
        for demo in DEMO_ACCOUNTS:  # every demo post is at home now, newest first
            for text in demo.posts:
                assert page.locator("article", has_text=text[:40]).count() == 1, text
        saved = _readme_screenshot(page)
        assert saved is None or saved.stat().st_size > 10_000
        context.close()
