"""The city's house rules, as every resident agrees to them at sign-up (shown by the web UI and the API)."""
from __future__ import annotations

RULES: tuple[str, ...] = (
    "Respektvoller Umgang: keine Beleidigungen, keine Hetze.",
    "Keine Werbung außerhalb der Geschäftskonten und Angebote.",
    "Nur Inhalte, an denen Sie die Rechte haben.",
)
