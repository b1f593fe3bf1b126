"""A resident's day in a real browser against a real `fedserver serve`: sign up, post with an image, follow a
second resident, see and like their post, switch to English, delete the account. No JavaScript is needed."""
from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.e2e.servers import serve

pytestmark = pytest.mark.e2e
PASSWORD = "ein-langes-passwort"


def _picture(folder: Path) -> Path:
    path = folder / "altmarkt.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 60)).save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def _sign_up(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/signup")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("E-Mail-Adresse").fill(f"{username}@example.org")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_label("Ich akzeptiere die Regeln der Stadt.").check()
    page.get_by_role("button", name="Registrieren").click()
    page.wait_for_url(f"{base}/home")


def test_a_residents_day(tmp_path: Path, chromium: Any, screenshots: Callable[[Any, str], Path]) -> None:
    with serve(tmp_path / "city") as server:
        base = server.base_url
        bob_context = chromium.new_context(locale="de-DE")
        bob = bob_context.new_page()
        _sign_up(bob, base, "bob")
        bob.get_by_label("Was gibt es Neues in Moers?").fill("Heute Flohmarkt am Altmarkt!")
        bob.get_by_role("button", name="Veröffentlichen").click()
        bob.wait_for_url(f"{base}/home")

        context = chromium.new_context(locale="de-DE", viewport={"width": 390, "height": 844})
        alice = context.new_page()
        alice.goto(base)
        screenshots(alice, "landing-phone")
        _sign_up(alice, base, "alice")
        alice.get_by_label("Was gibt es Neues in Moers?").fill("Mein erster Beitrag mit Bild")
        alice.get_by_text("Inhaltswarnung, Sichtbarkeit, Bild").click()
        alice.get_by_label("Bild (optional)").set_input_files(str(_picture(tmp_path)))
        alice.get_by_label("Bildbeschreibung für Menschen, die es nicht sehen können").fill("Grüner Platz")
        alice.get_by_role("button", name="Veröffentlichen").click()
        alice.wait_for_url(f"{base}/home")
        assert alice.get_by_alt_text("Grüner Platz").is_visible()

        alice.get_by_role("link", name="Suche").click()
        alice.get_by_label("Name, @nutzer@domain oder #Hashtag").fill("@bob")
        alice.get_by_role("button", name="Suche").click()
        alice.get_by_role("button", name="Folgen").click()
        alice.get_by_role("link", name="Home").click()
        bobs_post = alice.locator("article", has_text="Heute Flohmarkt am Altmarkt!")
        assert bobs_post.is_visible()
        bobs_post.get_by_role("button", name="Gefällt mir").click()
        assert alice.locator("article", has_text="Heute Flohmarkt").get_by_role(
            "button", name="Gefällt mir nicht mehr").is_visible()
        screenshots(alice, "home-phone")
        alice.set_viewport_size({"width": 1280, "height": 900})
        screenshots(alice, "home-desktop")

        alice.get_by_label("Sprache", exact=True).select_option("en")
        alice.get_by_role("button", name="Sprache wechseln").click()
        assert alice.get_by_role("link", name="Notifications").is_visible()
        screenshots(alice, "home-english")

        alice.get_by_role("link", name="Settings").click()
        alice.get_by_role("link", name="Delete my account").click()
        alice.get_by_label("Type your username (alice) to confirm").fill("alice")
        alice.get_by_label("Password").fill(PASSWORD)
        alice.get_by_role("button", name="Delete my account for good").click()
        assert alice.get_by_role("heading", name="Account deleted").is_visible()
        assert alice.goto(f"{base}/@alice").status == 404
        assert alice.goto(f"{base}/home").url.startswith(f"{base}/login")
        bob_context.close()
        context.close()
