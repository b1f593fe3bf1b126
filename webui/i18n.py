"""Languages of the web UI: the city's rule for choosing one (fedserver/i18n.py) and the web UI's catalogues."""
from __future__ import annotations

from pathlib import Path

from babel.support import Translations

from fedserver.i18n import (DEFAULT, LANGUAGE_COOKIE, LANGUAGE_NAMES, LANGUAGES, catalogue, from_accept_language,
                            pick, supported)

__all__ = ["CATALOGUES", "DEFAULT", "LANGUAGE_COOKIE", "LANGUAGE_NAMES", "LANGUAGES", "N_", "from_accept_language",
           "pick", "supported", "translations"]

CATALOGUES = Path(__file__).parent / "translations"


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; it is translated where it is shown."""
    return message


def translations(language: str) -> Translations:
    """The web UI's catalogue of one language."""
    return catalogue(CATALOGUES, language)
