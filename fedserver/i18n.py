"""Languages of the city's pages (the web UI and the OAuth consent page): German first, English selectable.

Which language a page speaks is one rule for every page: the signed-in account's setting, else the `lang`
cookie the web UI's switch sets, else the browser's Accept-Language, else German. Each part keeps its own
Babel catalogue (.po files, compiled in memory when first used: no build step).
"""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("de", "en")
DEFAULT = "de"
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}
LANGUAGE_COOKIE = "lang"


@lru_cache(maxsize=None)
def catalogue(directory: Path, language: str) -> Translations:
    """The catalogue of one language under `directory` (<language>/LC_MESSAGES/messages.po), compiled in memory."""
    with open(directory / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def supported(tag: str | None) -> str | None:
    """Our language for a tag such as en-GB or de; None when we do not speak it."""
    primary = (tag or "").strip().split("-")[0].split("_")[0].lower()
    return primary if primary in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The best of our languages in an Accept-Language header (RFC 9110, 12.5.4), by quality then order."""
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = supported(tag)
        if language is not None and quality > 0:
            choices.append((-quality, position, language))
    return min(choices)[2] if choices else None


def pick(account_locale: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page's language: the signed-in account's setting, else the `lang` cookie, else the browser's, else German."""
    return supported(account_locale) or supported(cookie) or from_accept_language(accept_language) or DEFAULT
